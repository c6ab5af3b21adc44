"""The SMS outbox: one row per message, so each is sent at most once and the monthly cap and
cost per association can be counted.

`queue_sms` adds a row under an idempotency key (e.g. "sign-in:42", or one per recipient and
notice); asking again with the same key returns the same row and sends nothing new. After the
caller's commit, `dispatch` hands the rows to background jobs in batches; `send_due_sms` (every
minute) sends whatever is due. A worker claims a batch of rows with one conditional UPDATE
(queued → claimed, with its token and a lease; FOR UPDATE SKIP LOCKED on PostgreSQL), then
sends them through one HTTP session, paced to the provider's rate (SMS_RATE_PER_SECOND): each
row is marked "sending" before its request, in the commit that records the previous answer.
Two workers, or a retry after a crash, cannot both send a row. A provider that answers "not
now" (throttling `isv.BUSINESS_LIMIT_CONTROL`, an outage) puts the row back with a later
`next_attempt_at` (exponential backoff). After a crash, claimed rows not yet marked go back to
the queue when their lease ends; the one row in flight stays "sending", and one whose request
got no answer is "uncertain": neither is ever sent again automatically.

The table is not a tenant table: sign-in codes belong to no association. Rows of an
association carry its id for the cap; only the platform and the association's own pages read it.

  models     the tables: messages, opt-outs, consents
  consent    consent to notices as recorded, and the numbers that opted out
  queueing   adding rows under their keys, the monthly cap and cost, reading rows back
  sending    quiet hours, handing rows to the jobs, claiming, sending and recording them
"""
