"""Personal data: who may be searched and stored (suppression), erasure, retention, lawful basis, contact
approval and the audit trail (issue 14; docs/privacy.md). Domain logic only: the adapters are in `aws/`,
`sqlite/` and `supabase/`, like the job store's."""
