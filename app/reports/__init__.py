"""Statistics reports (统计报表) filed upward: forms with deadlines, submissions, roll-ups."""
