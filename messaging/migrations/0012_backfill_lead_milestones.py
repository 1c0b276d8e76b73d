"""Fill the leads' new milestone columns from the history that exists (messages, inbound messages, audit rows)."""

from django.db import migrations

BACKFILL = """
UPDATE leads_lead l SET drafted_at = m.first_draft, contacted_at = m.first_sent
FROM (SELECT lead_id, min(created_at) AS first_draft, min(sent_at) AS first_sent
      FROM messaging_message GROUP BY lead_id) m
WHERE m.lead_id = l.id;

UPDATE leads_lead l SET replied_at = i.first_reply
FROM (SELECT i.lead_id, min(i.received_at) AS first_reply
      FROM leads_inboundmessage i JOIN leads_lead l2 ON l2.id = i.lead_id
      WHERE l2.contacted_at IS NOT NULL AND i.received_at > l2.contacted_at GROUP BY i.lead_id) i
WHERE i.lead_id = l.id;

UPDATE leads_lead l SET converted_at = coalesce(
    (SELECT min(a.created_at) FROM bizpilot_auditevent a
     WHERE a.object_type = 'leads.Lead' AND a.object_id = l.id::text AND a.action = 'lead.converted'),
    l.updated_at)
WHERE l.state = 'converted';
"""


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0005_lead_milestones"),
        ("messaging", "0011_analytics_flags_experiments"),
        ("bizpilot", "0003_analytics_flags_experiments"),
    ]

    operations = [migrations.RunSQL(BACKFILL, migrations.RunSQL.noop)]
