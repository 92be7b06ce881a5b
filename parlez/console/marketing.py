"""`marketing.yml`: the e-mail marketing platform's audience, the segments of customers
(docs/customers.md), and the follow-up e-mails after chats (docs/follow-ups.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from parlez.console.audience import (
    AUDIENCE_KEYS,
    FILE,
    TAG_SOURCES,
    Audience,
    MailchimpAudience,
    MarketingFileError,
)
from parlez.console.facebook_page import FacebookPage
from parlez.console.follow_up_rules import FollowUpRule, FollowUpTemplates, read_follow_ups
from parlez.console.segments import Segment, read_segments
from parlez.exceptions import Location
from parlez.io.env import expand, expand_all
from parlez.io.schema import known_keys
from parlez.io.yaml import document_start, read_text_file, read_yaml, where


@dataclass
class MarketingConfig:
    """What marketing.yml says: the audience, and what becomes a member's tags."""

    audience: Audience | None = None
    tags: tuple[str, ...] = TAG_SOURCES
    #: the platform's name, for the pages
    platform: str = ""
    #: the secret in the address the platform calls back (unsubscribes); none: no callback
    webhook_secret: str = ""
    segments: tuple[Segment, ...] = ()
    follow_ups: tuple[FollowUpRule, ...] = ()
    #: this server as customers reach it: the follow-ups' unsubscribe links point there
    public_url: str = ""
    #: where common questions are posted as FAQ; None without `facebook_page:`
    facebook_page: FacebookPage | None = None

    @classmethod
    def load(cls, project: Path, outcomes: tuple[str, ...] = ()) -> MarketingConfig:
        """The project's marketing.yml; no audience without one. `outcomes` are those the
        follow-ups may come after (analytics.yml's)."""
        path = project / FILE
        if not path.is_file():
            return cls()
        config = cls.from_text(read_text_file(path), outcomes)
        templates = FollowUpTemplates(project)
        for rule in config.follow_ups:
            templates.check(rule.template, rule.at or Location(FILE))
        return config

    @classmethod
    def from_text(cls, text: str, outcomes: tuple[str, ...] = ()) -> MarketingConfig:
        raw = read_yaml(text, FILE)
        at = Location(FILE)
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise MarketingFileError(
                f"{FILE} holds 'audience:', the e-mail marketing platform",
                document_start(raw, at),
            )
        known_keys(
            raw,
            ("audience", "segments", "follow_ups", "public_url", "facebook_page"),
            FILE,
            at,
            MarketingFileError,
        )
        page = _facebook_page(raw.get("facebook_page"), where(raw, "facebook_page") or at)
        segments = read_segments(raw.get("segments"), where(raw, "segments") or at)
        follow_ups = read_follow_ups(
            raw.get("follow_ups"), where(raw, "follow_ups") or at, outcomes
        )
        public_url = _public_url(raw, at, needed=bool(follow_ups))
        spec = raw.get("audience")
        if spec is None:
            return cls(
                segments=segments,
                follow_ups=follow_ups,
                public_url=public_url,
                facebook_page=page,
            )
        here = where(raw, "audience") or at
        if not isinstance(spec, dict):
            raise MarketingFileError("'audience' names a platform and its keys", here)
        known_keys(spec, AUDIENCE_KEYS, "'audience'", here, MarketingFileError)
        if spec.get("type") != "mailchimp":
            raise MarketingFileError(
                f"the audience's type '{spec.get('type')}' is not known",
                where(spec, "type", value=True) or here,
                hint="type: mailchimp",
            )
        tags = spec.get("tags", list(TAG_SOURCES))
        if not isinstance(tags, list) or not all(t in TAG_SOURCES for t in tags):
            raise MarketingFileError(
                "'tags' lists what becomes a member's tags",
                where(spec, "tags", value=True) or here,
                hint=f"any of {', '.join(TAG_SOURCES)}",
            )
        expand_all(spec)  # ${MAILCHIMP_API_KEY}: a missing variable names its line
        for key in ("api_key", "list_id"):
            if not isinstance(spec.get(key), str) or not spec[key].strip():
                raise MarketingFileError(
                    f"the Mailchimp audience needs '{key}'",
                    where(spec, key, value=True) or here,
                    hint="api_key: ${MAILCHIMP_API_KEY}, list_id: the audience's id"
                    if key == "api_key"
                    else "the audience's id, in Mailchimp's Audience → Settings",
                )
        url = spec.get("url")
        secret = spec.get("webhook_secret") or ""
        if not isinstance(secret, str) or (secret and len(secret) < 16):
            raise MarketingFileError(
                "'webhook_secret' is a secret of 16 characters or more",
                where(spec, "webhook_secret", value=True) or here,
                hint="webhook_secret: ${MAILCHIMP_WEBHOOK_SECRET}, from `openssl rand -hex 16`",
            )
        audience = MailchimpAudience(spec["api_key"].strip(), spec["list_id"].strip(), url)
        return cls(
            audience, tuple(tags), "Mailchimp", secret, segments, follow_ups, public_url, page
        )


def _facebook_page(spec: object, at: Location) -> FacebookPage | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise MarketingFileError(
            "'facebook_page' names the Page and its token",
            at,
            hint='page_id: "104123456789012", access_token: ${FACEBOOK_PAGE_TOKEN}',
        )
    known_keys(spec, ("page_id", "access_token", "url"), "'facebook_page'", at, MarketingFileError)
    expand_all(spec)
    for key in ("page_id", "access_token"):
        value = spec.get(key)
        if not isinstance(value, str | int) or not str(value).strip():
            raise MarketingFileError(
                f"the Facebook Page needs '{key}'",
                where(spec, key, value=True) or at,
                hint="the Page's id, in its About section"
                if key == "page_id"
                else "access_token: ${FACEBOOK_PAGE_TOKEN}, a Page token with pages_manage_posts",
            )
    url = spec.get("url")
    return FacebookPage(
        str(spec["page_id"]).strip(),
        str(spec["access_token"]).strip(),
        url if isinstance(url, str) else None,
    )


def _public_url(raw: dict[str, object], at: Location, needed: bool) -> str:
    url = raw.get("public_url")
    if url is None and not needed:
        return ""
    if isinstance(url, str):
        url = expand(url, where(raw, "public_url", value=True) or at)
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise MarketingFileError(
            "'public_url' is this server's address as customers reach it, for the "
            "follow-ups' unsubscribe links",
            where(raw, "public_url", value=True) or at,
            hint="public_url: https://chat.example.com",
        )
    return url.rstrip("/")
