"""DucklingEntityExtractor: numbers, times, money, e-mails, phones, URLs... without a server.

Duckling itself runs embedded (the `pyduckling-native-phihos` wheel). When `url` is set and a
Duckling server answers there, that server is used, as in Rasa; when it does not answer, the
embedded Duckling takes over with one warning. Spoken clock times ("four in the evening") are
rewritten first, because Duckling reads them wrongly.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zoneinfo
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from parlez.diagnostics import warn
from parlez.exceptions import ParlezError
from parlez.extras import install_hint
from parlez.nlu.component import Component
from parlez.nlu.extractors.spoken_times import original_span, rewrite
from parlez.nlu.message import Message
from parlez.registry import register_component

logger = logging.getLogger(__name__)

DIMENSIONS = (
    "amount-of-money",
    "credit-card-number",
    "distance",
    "duration",
    "email",
    "number",
    "ordinal",
    "phone-number",
    "quantity",
    "temperature",
    "time",
    "url",
    "volume",
)


class DucklingUnavailableError(ParlezError):
    code = "P186"


def _zoneinfo_dir() -> str:
    for folder in zoneinfo.TZPATH:
        if Path(folder, "UTC").exists():
            return folder
    try:
        import tzdata

        return str(Path(tzdata.__file__).parent / "zoneinfo")
    except ImportError:
        raise DucklingUnavailableError(
            "no time zone database was found for Duckling", hint="install the tzdata package"
        ) from None


class EmbeddedDuckling:
    """Duckling's own rules, in-process. One runtime per process, used under a lock."""

    _lock = threading.Lock()
    _zones: Any = None

    def __init__(self) -> None:
        try:
            import duckling
        except ImportError:
            raise DucklingUnavailableError(
                "the embedded Duckling is not installed",
                hint=f"{install_hint('duckling')}, or give the component the `url` of a "
                "Duckling server",
            ) from None
        self._duckling = duckling
        with self._lock:
            if EmbeddedDuckling._zones is None:
                EmbeddedDuckling._zones = duckling.load_time_zones(_zoneinfo_dir())

    def parse(
        self, text: str, locale: str, timezone: str, dimensions: Sequence[str], reference_ms: int
    ) -> list[dict[str, Any]]:
        d = self._duckling
        with self._lock:
            ref = d.parse_ref_time(self._zones, timezone, reference_ms // 1000)
            language = d.parse_lang(locale.split("_")[0].upper())
            context = d.Context(
                ref, d.parse_locale(locale.upper(), d.default_locale_lang(language))
            )
            result: list[dict[str, Any]] = d.parse(
                text, context, d.parse_dimensions(list(dimensions)), False
            )
        return result


def _server_parse(
    url: str,
    text: str,
    locale: str,
    timezone: str,
    dimensions: Sequence[str],
    reference_ms: int,
    timeout: float,
) -> list[dict[str, Any]]:
    """Rasa's request to a Duckling server: form-encoded text, locale, tz, dims, reftime."""
    body = urllib.parse.urlencode(
        {
            "text": text,
            "locale": locale,
            "tz": timezone,
            "dims": json.dumps(list(dimensions)),
            "reftime": reference_ms,
        }
    ).encode()
    request = urllib.request.Request(
        f"{url.rstrip('/')}/parse",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        parsed: list[dict[str, Any]] = json.loads(response.read().decode("utf-8"))
        return parsed


@register_component("DucklingEntityExtractor")
class DucklingEntityExtractor(Component):
    defaults = {
        "url": None,
        "dimensions": None,
        "locale": None,
        "timezone": None,
        "timeout": 3,
        "spoken_times": True,
    }
    gives = ("entities",)
    #: how long to keep using the embedded Duckling after the server failed to answer
    SERVER_RETRY_SECONDS = 60.0

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        unknown = [d for d in self.config["dimensions"] or [] if d not in DIMENSIONS]
        if unknown:
            raise DucklingUnavailableError(
                f"DucklingEntityExtractor has no dimension {', '.join(repr(u) for u in unknown)}",
                hint=f"use {', '.join(DIMENSIONS)}",
            )
        self._embedded: EmbeddedDuckling | None = None
        self._server_down_until = 0.0
        self._warned = False

    @property
    def locale(self) -> str:
        if self.config["locale"]:
            return str(self.config["locale"])
        language = self.language.split("_")[0].lower()
        return f"{language}_{'US' if language == 'en' else language.upper()}"

    @property
    def timezone(self) -> str:
        if self.config["timezone"]:
            return str(self.config["timezone"])
        local = datetime.now().astimezone().tzinfo
        name = getattr(local, "key", None)
        return str(name) if name else "UTC"

    def _parse(self, text: str, reference_ms: int) -> list[dict[str, Any]]:
        dims = self.config["dimensions"] or DIMENSIONS
        url = self.config["url"]
        if url and time.monotonic() >= self._server_down_until:
            try:
                return _server_parse(
                    url,
                    text,
                    self.locale,
                    self.timezone,
                    dims,
                    reference_ms,
                    float(self.config["timeout"]),
                )
            except (urllib.error.URLError, OSError, ValueError) as error:
                self._server_down_until = time.monotonic() + self.SERVER_RETRY_SECONDS
                if not self._warned:
                    self._warned = True
                    warn(
                        "P187",
                        f"no Duckling server answers at {url} ({error}); parlez's embedded Duckling is used instead",
                    )
        if self._embedded is None:
            self._embedded = EmbeddedDuckling()
        # Duckling's C boundary cannot take NUL characters; a space keeps every offset.
        text = text.replace("\x00", " ")
        try:
            return self._embedded.parse(text, self.locale, self.timezone, dims, reference_ms)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # a Rust panic is a BaseException; a message must not crash
            logger.warning("Duckling could not parse %r: %s", text[:80], error)
            return []

    def process(self, messages: Sequence[Message]) -> None:
        for message in messages:
            if not message.text.strip():
                continue
            reference = message.metadata.get("time")
            reference_ms = (
                int(reference) if isinstance(reference, (int, float)) else int(time.time() * 1000)
            )
            text, rewrites = (
                rewrite(message.text) if self.config["spoken_times"] else (message.text, [])
            )
            found = []
            for match in self._parse(text, reference_ms):
                start, end = original_span(int(match["start"]), int(match["end"]), rewrites)
                found.append(
                    {
                        "start": start,
                        "end": end,
                        "text": message.text[start:end],
                        "value": _value(match["value"]),
                        "confidence": 1.0,
                        "additional_info": match["value"],
                        "entity": match["dim"],
                        "extractor": self.name,
                    }
                )
            message.entities = message.entities + found


def _value(value: dict[str, Any]) -> Any:
    if value.get("type") == "interval":
        return {"to": value.get("to", {}).get("value"), "from": value.get("from", {}).get("value")}
    return value.get("value")
