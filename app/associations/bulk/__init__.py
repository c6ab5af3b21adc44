"""Setting up many associations below at once from a spreadsheet (.xlsx or .csv).

One row per child association: name, kind, division code, parent (name or division code),
served population, and optionally the first secretary's name and mobile number or email. The
same discipline as the member import: every row is checked first with the rules of the
one-by-one form (`onboarding.check_child`), the user sees a row-by-row report, nothing is
written until they confirm, and then every valid row goes in one transaction, with an
invitation for each first secretary.

A row's parent is the uploader's association (when the parent cell is empty or names it), an
association already below it, or a row further up in the same file; it is found by name or by
division code. Used by the web pages (app/associations/bulk_views.py) and by
`flask associations import` (app/associations/cli.py).

  columns   the fields, the headings people give them, finding them in the heading row
  upload    the kept file: saved under a token, read again with the chosen layout, discarded
  checking  every row against the one-by-one rules, the tree and the rows above it
  writing   every valid row in bulk: associations by depth, population records, invitations
"""
