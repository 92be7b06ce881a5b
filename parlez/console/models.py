"""The console's tables, in the same database as the conversations (Rasa's `events`)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

users = Table(
    "console_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(255), nullable=False, unique=True),
    Column("name", String(255), nullable=False, default=""),
    Column("role", String(32), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
)

#: a signed-in browser: the cookie holds the token, the table only its hash
sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("console_users.id", ondelete="CASCADE"), index=True),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
)

#: who did what, and when
audit_log = Table(
    "console_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),
    Column("user_email", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
)

#: the console's view of a conversation: who holds it, and whether it was resolved
assignments = Table(
    "console_conversations",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("assignee", String(255)),
    Column("updated_at", Float, nullable=False),
    #: the team it was given to; its members see it as theirs, one of them takes it over
    Column("team", String(64), index=True),
)

#: what the inbox shows and filters on, per conversation: read from its events by the index
#: (parlez/console/index.py), never written anywhere else
conversation_index = Table(
    "console_index",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("channel", String(64), nullable=False, default=""),
    Column("customer", String(255), nullable=False, default="", index=True),
    Column("language", String(16), nullable=False, default=""),
    Column("paused", Boolean, nullable=False, default=False),
    Column("last_text", Text, nullable=False, default=""),
    Column("last_at", Float, nullable=False, index=True),
    #: the customer's latest rating (1-5)
    Column("rating", Integer),
)

#: how far the index has read the tracker store's changes, and in which history
index_position = Table(
    "console_index_position",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("history", String(255), nullable=False),
    Column("position", BigInteger, nullable=False),
)

#: the customers' questions the knowledge base could not answer (`knowledge_miss` events),
#: read from the conversations by the index, for the "unanswered questions" page
knowledge_misses = Table(
    "console_knowledge_misses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("at", Float, nullable=False, index=True),
    Column("question", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("suggested", Boolean, nullable=False),
)

#: the customers' messages worth a designer's look (parlez/console/review.py), read from the
#: conversations by the index
review_turns = Table(
    "console_review_turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("at", Float, nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("intent", String(255), nullable=False),
    Column("confidence", Float, nullable=False),
    #: why it is worth a look, comma-separated (review.Reason)
    Column("reasons", String(255), nullable=False),
)

#: the turns a designer has looked at, and what came of it (never derived: kept)
reviewed_turns = Table(
    "console_reviewed_turns",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("at", Float, primary_key=True),
    Column("by", String(255), nullable=False),
    Column("done_at", Float, nullable=False),
    #: "reviewed", or "example:<intent>" when it became an NLU example
    Column("outcome", String(255), nullable=False),
)

#: the labels a team puts on conversations ("vip", "refund"...)
labels = Table(
    "console_labels",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("label", String(64), primary_key=True, index=True),
)

#: The messages, searchable: an FTS5 table on SQLite, a GIN-indexed table on PostgreSQL. Both
#: are made by the migration (0002); the console writes and reads them with plain SQL.
SEARCH_TABLE = "console_search"

#: what the team writes about a conversation for itself: never sent to the customer
notes = Table(
    "console_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("author", String(255), nullable=False),
    Column("text", Text, nullable=False),
)

#: a colleague named in a note (`@ana`), until they open the conversation
mentions = Table(
    "console_mentions",
    metadata,
    Column(
        "note_id", Integer, ForeignKey("console_notes.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("user_email", String(255), primary_key=True, index=True),
    Column("seen", Boolean, nullable=False, default=False),
)

#: answers the team reuses: `/shortcut` in the reply box sends the text
canned_replies = Table(
    "console_canned_replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("shortcut", String(64), nullable=False, unique=True),
    Column("text", Text, nullable=False),
    Column("updated_by", String(255), nullable=False),
    Column("updated_at", Float, nullable=False),
)

#: a personal API token: a script works as its user, with that user's role. The token is
#: shown once; the table keeps its hash and its last characters, to tell tokens apart.
api_tokens = Table(
    "console_api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "user_id",
        Integer,
        ForeignKey("console_users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("name", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("hint", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float),
)

#: a group of colleagues (billing, returns...) that conversations can be given to
teams = Table(
    "console_teams",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
)

team_members = Table(
    "console_team_members",
    metadata,
    Column(
        "team",
        String(64),
        ForeignKey("console_teams.name", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_email", String(255), primary_key=True, index=True),
)

#: what each conversation (one session of a tracker) counts for in the reports: read from
#: its events by the index (parlez/console/analytics/facts.py), never written elsewhere
analytics_conversations = Table(
    "console_analytics_conversations",
    metadata,
    # Keyed by day first, and on SQLite without a rowid: a report's range of days is read
    # in one pass over adjacent rows (a rowid table found them one lookup at a time, 9x
    # slower); the index on sender_id serves the index's rewrite of a conversation.
    Column("day", String(10), primary_key=True),
    Column("sender_id", String(255), primary_key=True, index=True),
    Column("session", Integer, primary_key=True),
    Column("started_at", Float, nullable=False),
    Column("hour", Integer, nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("channel", String(64), nullable=False),
    Column("language", String(16), nullable=False),
    Column("model_id", String(255), nullable=False),
    Column("incoming", Integer, nullable=False),
    Column("outgoing", Integer, nullable=False),
    Column("human_messages", Integer, nullable=False),
    Column("fallbacks", Integer, nullable=False),
    Column("knowledge_questions", Integer, nullable=False),
    Column("knowledge_misses", Integer, nullable=False),
    Column("handed_over", Boolean, nullable=False),
    Column("human", Boolean, nullable=False),
    Column("agent", String(255), nullable=False),
    Column("first_response_seconds", Float),
    Column("resolution_seconds", Float),
    Column("rating", Integer),
    Column("resolved", Boolean, nullable=False),
    Column("converted", Boolean, nullable=False),
    # phone calls (0009)
    Column("calls", Integer, nullable=False, server_default="0"),
    Column("contained_calls", Integer, nullable=False, server_default="0"),
    Column("call_seconds", Float, nullable=False, server_default="0"),
    Column("transfers", Integer, nullable=False, server_default="0"),
    Column("no_inputs", Integer, nullable=False, server_default="0"),
    Column("no_matches", Integer, nullable=False, server_default="0"),
    Column("heard", Integer, nullable=False, server_default="0"),
    Column("heard_confidence", Float, nullable=False, server_default="0"),
    sqlite_with_rowid=False,
)

#: what each conversation counts by name: its outcomes (analytics.yml, `kind` "outcome"), its
#: intents ("intent"), the labels analytics.yml's rules give it ("label", beside the labels
#: people set by hand in `console_labels`, which the index never touches), and the arm
#: (`detail`) of each A/B test it was in ("arm", the experiment's name). One table, not
#: four: the index rewrites a conversation's rows with one statement after every message.
analytics_counts = Table(
    "console_analytics_counts",
    metadata,
    # Kind, then day: a report's intents of a range of days are adjacent rows, and so are
    # all the labels a label filter looks through.
    Column("kind", String(16), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("sender_id", String(255), primary_key=True, index=True),
    Column("session", Integer, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("detail", String(255), nullable=False, default=""),
    Column("count", Integer, nullable=False),
    Column("channel", String(64), nullable=False),
    Column("language", String(16), nullable=False),
    Column("model_id", String(255), nullable=False),
    sqlite_with_rowid=False,
)

#: the weeks whose e-mail report was sent (Monday's date): the process that adds the row
#: sends it, so several processes send it once
weekly_reports = Table(
    "console_weekly_reports",
    metadata,
    Column("week", String(10), primary_key=True),
    Column("sent_at", Float, nullable=False),
)

#: one customer across channels (parlez/console/contacts.py): kept from the conversations'
#: identifiers by the index, merged when an identifier matches or by hand. A contact merged
#: into another keeps its row, pointing at the one that stayed.
contacts = Table(
    "console_contacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, default=""),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False, index=True),
    Column("merged_into", Integer, index=True),
    #: marketing consent: the customer's latest explicit answer, when, and what they were
    #: asked (None: never asked)
    Column("consent", Boolean),
    Column("consent_at", Float),
    Column("consent_wording", Text, nullable=False, default=""),
)

#: what identifies a contact: an e-mail address, a phone number, a WhatsApp number, a web
#: chat visitor, a Messenger or Instagram id... Each belongs to one contact.
contact_identifiers = Table(
    "console_contact_identifiers",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("value", String(255), primary_key=True),
    Column("contact_id", Integer, nullable=False, index=True),
)

#: the conversation (a tracker: one sender id on one channel) and its contact
contact_conversations = Table(
    "console_contact_conversations",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("contact_id", Integer, nullable=False, index=True),
)

#: merges, and what each moved (JSON lists), so that a merge by hand can be undone
contact_merges = Table(
    "console_contact_merges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    #: who merged them; "" for a merge because an identifier matched
    Column("by", String(255), nullable=False, default=""),
    Column("kept", Integer, nullable=False, index=True),
    Column("merged", Integer, nullable=False, index=True),
    Column("identifiers", Text, nullable=False),
    Column("conversations", Text, nullable=False),
    Column("undone_at", Float),
)

#: what was last sent to the e-mail marketing platform for each address (a fingerprint and
#: the tags), so that a sync sends only what changed
audience_members = Table(
    "console_audience_members",
    metadata,
    Column("email", String(255), primary_key=True),
    Column("contact_id", Integer, nullable=False, index=True),
    Column("fingerprint", String(64), nullable=False),
    Column("tags", Text, nullable=False, default="[]"),
    #: when the customer gave the answer last sent (a new one sends the status again)
    Column("consent_at", Float, nullable=False, default=0.0),
    Column("synced_at", Float, nullable=False),
)

#: the follow-up e-mails (marketing.yml `follow_ups:`): one per rule and conversation, kept
#: once queued so that it is never sent twice; `token` is its unsubscribe link's
follow_ups = Table(
    "console_follow_ups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(64), nullable=False),
    Column("sender_id", String(255), nullable=False),
    Column("session", Integer, nullable=False),
    Column("contact_id", Integer, nullable=False, index=True),
    Column("email", String(255), nullable=False),
    Column("language", String(16), nullable=False),
    Column("due_at", Float, nullable=False),
    #: queued, sent, skipped (no consent any more, came back...), failed
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("sent_at", Float),
    Column("token", String(64), nullable=False, unique=True),
    UniqueConstraint("rule", "sender_id", "session", name="uq_follow_up_once"),
    sqlite_autoincrement=True,  # a token's row is never another customer's later
)

#: what the business's own pages report through the web chat (`ParlezChat.track`): a visit
#: the conversations' summaries published to the event broker: each session once it has
#: been quiet a while, and again when it went on (a later `last_at`)
published_summaries = Table(
    "console_published_summaries",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("session", Integer, primary_key=True),
    Column("last_at", Float, nullable=False),
)

#: (one a day per visitor) and conversions such as a purchase, by the web chat's session id
#: (its conversation's sender id: forgetting the customer deletes them too)
tracked = Table(
    "console_tracked",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("value", Float),
    Column("currency", String(3), nullable=False, default=""),
    Column("order_id", String(128), nullable=False, default=""),
    Column("at", Float, nullable=False, index=True),
    #: a visit's day or an order's id: the same one reported again is kept once
    Column("once", String(255), unique=True),
)
