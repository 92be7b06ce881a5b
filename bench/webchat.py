"""Web chat benchmark: the widget in headless Chromium against `parlez run` with the assistant.

    python bench/webchat.py                          # 100 messages, 20 page loads
    python bench/webchat.py --messages 20 --loads 5  # quicker
    python bench/webchat.py --screenshots docs/images  # also the pictures the docs show
    python bench/webchat.py --smoke --models DIR     # a few messages: for CI

Printed: the gzipped size of widget.js as the server sends it, the time from navigation to
the launcher being on screen on a blank page (p50/p99 over `--loads` fresh browser
contexts), and the round trip from pressing Enter to the bot's first reply, measured in the
page (p50/p99 over `--messages` messages). Goals: < 30 KB, < 300 ms, p50 < 150 ms.
It needs a trained model in models/ (`make run` or `parlez train`) and Debian's chromium.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.connectors.webchat.browser import chromium, site  # noqa: E402
from tests.server.process import parlez_run  # noqa: E402
from tests.services import free_port  # noqa: E402

MESSAGES = [
    "hello",
    "what are your opening hours?",
    "how much is a haircut?",
    "which services do you offer?",
    "are you a bot?",
    "thanks",
]

#: resolves with the time the launcher is first drawn, from the page's navigation start
LAUNCHER_PROBE = """
window.__launcher = new Promise((resolve, reject) => {
  // a widget that never draws fails the run instead of hanging it
  setTimeout(() => reject(new Error('the launcher was not drawn within 60 s')), 60000);
  function look() {
    const host = document.querySelector('[data-parlez-chat]');
    const button = host && host.shadowRoot && host.shadowRoot.querySelector('.launcher');
    if (button && button.getBoundingClientRect().width > 0) resolve(performance.now());
    else requestAnimationFrame(look);
  }
  look();
});
"""

#: sends one message as a visitor does and resolves with the ms until the first bot reply
ROUND_TRIP = """
async (text) => {
  const root = document.querySelector('[data-parlez-chat]').shadowRoot;
  const log = root.querySelector('.log');
  const typing = root.querySelector('.typing');
  while (!typing.hidden) await new Promise(r => setTimeout(r, 5));
  const before = log.querySelectorAll('.msg.bot').length;
  const box = root.querySelector('textarea');
  const start = performance.now();
  const reply = new Promise(resolve => {
    const watch = new MutationObserver(() => {
      if (log.querySelectorAll('.msg.bot').length > before) {
        watch.disconnect();
        resolve(performance.now() - start);
      }
    });
    watch.observe(log, { childList: true });
  });
  box.value = text;
  box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  const late = new Promise((_, reject) =>
    setTimeout(() => reject(new Error('no reply to ' + JSON.stringify(text) + ' within 60 s')), 60000));
  return await Promise.race([reply, late]);
}
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def credentials(site_url: str, folder: Path) -> Path:
    text = (REPO / "credentials.yml").read_text(encoding="utf-8")
    text = text.replace("- http://localhost:5005", f"- {site_url}")
    text = text.replace("messages_per_minute: 20", "messages_per_minute: 100000")
    text = text.replace("burst: 8", "burst: 100000")
    text = text.replace("folder: attachments", f"folder: {folder / 'uploads'}")
    path = folder / "credentials.yml"
    path.write_text(text, encoding="utf-8")
    return path


def endpoints(folder: Path) -> Path:
    path = folder / "endpoints.yml"
    path.write_text(
        "action_endpoint:\n  actions_module: actions\n"
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {folder / 'c.db'}\n",
        encoding="utf-8",
    )
    return path


def measure(
    browser: Any, chat_url: str, site_url: str, loads: int, messages: int
) -> dict[str, Any]:
    widget = httpx.get(f"{chat_url}/webchat/widget.js", headers={"Accept-Encoding": "gzip"})
    gz_bytes = int(widget.headers["content-length"])

    launcher: list[float] = []
    for _ in range(loads):
        context = browser.new_context()
        context.add_init_script(LAUNCHER_PROBE)
        page = context.new_page()
        page.goto(f"{site_url}/?blank=1")
        launcher.append(float(page.evaluate("() => window.__launcher")))
        context.close()

    context = browser.new_context()
    page = context.new_page()
    page.goto(site_url)
    page.locator(".launcher").click()
    page.locator(".msg.bot").first.wait_for(timeout=60_000)
    trips = [float(page.evaluate(ROUND_TRIP, MESSAGES[i % len(MESSAGES)])) for i in range(messages)]
    context.close()
    return {
        "widget.js gzipped (KB)": gz_bytes / 1024,
        "launcher visible p50 (ms)": statistics.median(launcher),
        "launcher visible p99 (ms)": percentile(launcher, 99),
        "send to reply p50 (ms)": statistics.median(trips),
        "send to reply p99 (ms)": percentile(trips, 99),
        "messages": len(trips),
    }


def screenshots(browser: Any, chat_url: str, site_url: str, folder: Path) -> list[Path]:
    """The main states of the widget, as docs/webchat.md and the README show them."""
    folder.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def shot(page: Any, name: str) -> None:
        page.wait_for_timeout(300)
        path = folder / f"webchat-{name}.png"
        page.screenshot(path=str(path))
        shots.append(path)

    context = browser.new_context(viewport={"width": 1100, "height": 760})
    page = context.new_page()
    page.goto(site_url)
    shot(page, "closed")
    page.locator(".launcher").click()
    page.locator(".msg.bot").first.wait_for(timeout=60_000)
    shot(page, "greeting")
    page.get_by_role("button", name="Opening hours").click()
    page.locator(".sources").first.wait_for()
    shot(page, "answer")
    page.get_by_role("textbox").fill("Can I talk to a person?")
    page.get_by_role("textbox").press("Enter")
    page.locator(".note.human").wait_for()
    session = page.evaluate(
        "() => JSON.parse(Object.entries(localStorage).find(([k]) => k.endsWith(':session'))[1])"
    )
    httpx.post(
        f"{chat_url}/conversations/{session}/tracker/events",
        params={"execute_side_effects": "true", "output_channel": "latest"},
        json={"event": "bot", "text": "Hi, this is Ana from the studio. How can I help?"},
    )
    page.locator(".msg.human").wait_for()
    shot(page, "handoff")
    page.get_by_role("button", name="End the chat").click()
    page.get_by_role("radio", name="4 out of 5").click()
    shot(page, "rating")
    context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 760}, is_mobile=True)
    page = phone.new_page()
    page.goto(site_url)
    page.locator(".launcher").click()
    page.locator(".msg.bot").first.wait_for(timeout=60_000)
    shot(page, "phone")
    phone.close()

    rtl = browser.new_context(viewport={"width": 1100, "height": 760})
    page = rtl.new_page()
    page.goto(f"{site_url}/?language=ar&open=true")
    page.locator(".msg.bot").first.wait_for(timeout=60_000)
    shot(page, "arabic")
    rtl.close()

    # The booking read back before it is made, then made (and the offers asked about once),
    # at desktop and phone sizes.
    for name, size, time in (
        ("booking", {"width": 1100, "height": 760}, "friday at 11am"),
        ("booking-phone", {"width": 390, "height": 760}, "friday at 2pm"),  # 11 am is taken
    ):
        booking = browser.new_context(viewport=size, is_mobile=name.endswith("phone"))
        page = booking.new_page()
        page.goto(site_url)
        page.locator(".launcher").click()
        page.locator(".msg.bot").first.wait_for(timeout=60_000)
        box = page.get_by_role("textbox", name="Type your message")
        for text in ("I'd like a haircut", time, "Ana Lima", "ana@example.com"):
            before = page.locator(".msg.bot").count()
            box.fill(text)
            box.press("Enter")
            page.locator(".msg.bot").nth(before).wait_for(timeout=60_000)
        page.get_by_text("Shall I book").wait_for(timeout=60_000)
        shot(page, name)
        page.get_by_role("button", name="Yes, book it").click()
        page.get_by_text("offers and news by e-mail").wait_for(timeout=60_000)
        shot(page, name.replace("booking", "booked"))
        booking.close()

    config = browser.new_context(viewport={"width": 1100, "height": 760})
    page = config.new_page()
    page.goto(f"{chat_url}/webchat/")
    page.locator(".launcher").wait_for()
    shot(page, "settings")
    config.close()
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--screenshots", type=Path, help="write the docs' pictures here")
    parser.add_argument("--models", type=Path, default=REPO / "models", help="trained models")
    parser.add_argument("--smoke", action="store_true", help="5 messages, 2 loads: for CI")
    args = parser.parse_args()
    if args.smoke:
        args.messages, args.loads = 5, 2
    models = sorted(p for p in args.models.glob("*.tar.gz") if not p.name.startswith("nlu-"))
    if not models:
        print("no trained model in models/: run `parlez train` first", file=sys.stderr)
        return 2
    port = free_port()
    chat_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp, site(chat_url) as site_url, chromium() as browser:
        folder = Path(tmp)
        with parlez_run(
            REPO,
            "-m",
            str(models[-1]),
            "--endpoints",
            str(endpoints(folder)),
            "--credentials",
            str(credentials(site_url, folder)),
            "--enable-api",
            port=port,
        ):
            if args.screenshots:
                for path in screenshots(browser, chat_url, site_url, args.screenshots):
                    print(f"wrote {path}")
            figures = measure(browser, chat_url, site_url, args.loads, args.messages)

    from rich.console import Console
    from rich.table import Table

    table = Table(title="web chat (headless Chromium, parlez run on 127.0.0.1)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    goals = {
        "widget.js gzipped (KB)": "< 30",
        "launcher visible p50 (ms)": "< 300",
        "send to reply p50 (ms)": "< 150",
    }
    table.add_column("goal", justify="right")
    for name, value in figures.items():
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        table.add_row(name, shown, goals.get(name, ""))
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
