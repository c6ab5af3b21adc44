"""Messages to a group by SMS (群发): who is in the group — all active members, members in
arrears, an event's sign-ups, a volunteer team, the households linked to a central household
(中心户), and for a higher level the secretaries of the associations below it — what it will
cost, and queuing one outbox message per recipient (app/core/sms_outbox/) under a key per
(message, recipient), so a repeated send or a retry never reaches anyone twice. Numbers that
opted out are left out and counted; the association's monthly cap holds back the rest
("capped"). Recipients with an account also find the message in their notification centre;
secretaries whose login is an e-mail address get it by e-mail. Each recipient's delivery state
is read back from the outbox rows of the message.

A message may be sent now or scheduled for a later moment (China time, within 30 days, outside
the quiet hours); `send_scheduled_group_messages` (every minute) sends it then, resolving its
recipients at that moment. It claims the message with a conditional UPDATE (scheduled → sent)
in the transaction that queues the recipients' messages, so two schedulers, or a cancel at the
same moment, cannot both win.

  models      the groups and the group_messages table
  recipients  the groups to choose from and who is in each: numbers, e-mails, accounts
  sending     the count and cost beforehand, sending now or at a set time, cancelling
  states      each recipient's delivery (and for secretaries, reading) state
"""
