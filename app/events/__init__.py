"""Events: publishing, member sign-up with a waitlist, check-in, calendar files."""
