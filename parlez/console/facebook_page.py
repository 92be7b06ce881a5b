"""Posting to the business's Facebook Page through the Graph API (`POST /{page-id}/feed`):
the console's *Post to the Facebook Page* on a common question and its answer.

    # marketing.yml
    facebook_page:
      page_id: "104123456789012"
      access_token: ${FACEBOOK_PAGE_TOKEN}   # a Page access token with pages_manage_posts
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from parlez.exceptions import ParlezError

logger = logging.getLogger(__name__)

GRAPH_URL = "https://graph.facebook.com/v21.0"
#: a post's text is cut here (Facebook takes more; a FAQ post longer than this is a mistake)
MAX_MESSAGE = 5000


class PagePostError(ParlezError):
    code = "P557"


class FacebookPage:
    def __init__(self, page_id: str, access_token: str, url: str | None = None) -> None:
        self.page_id = page_id
        self.url = (url or GRAPH_URL).rstrip("/")
        self._token = access_token

    async def post(self, message: str, link: str = "") -> str:
        """Publish `message` (and `link`) on the Page; the post's id. PagePostError with
        Facebook's own words when it refuses, or when it cannot be reached."""
        message = message.strip()[:MAX_MESSAGE]
        if not message:
            raise PagePostError("a post needs its text")
        body: dict[str, Any] = {"message": message}
        if link:
            body["link"] = link
        try:
            async with httpx.AsyncClient(timeout=20.0) as client:
                reply = await client.post(
                    f"{self.url}/{self.page_id}/feed",
                    params={"access_token": self._token},
                    json=body,
                )
        except httpx.HTTPError as error:
            raise PagePostError(f"Facebook could not be reached: {type(error).__name__}") from None
        try:
            found = reply.json()
        except ValueError:
            found = {}
        if reply.status_code != 200 or not isinstance(found, dict) or "id" not in found:
            refusal = found.get("error") if isinstance(found, dict) else None
            words = refusal.get("message") if isinstance(refusal, dict) else None
            raise PagePostError(
                f"Facebook refused the post ({reply.status_code}): {words or 'no reason given'}",
                hint="a Page access token with pages_manage_posts, for this Page"
                if reply.status_code in (400, 401, 403)
                else None,
            )
        return str(found["id"])
