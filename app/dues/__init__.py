"""Dues (会费): yearly plans, charges, offline and central-household payments, receipts,
arrears, reminders and collection rates."""
