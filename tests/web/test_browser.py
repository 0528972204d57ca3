"""The whole life of a ticket in a real browser (Debian's Chromium through Playwright), in
Vietnamese, as requester, expert and coordinator, at phone and desktop widths, with a screenshot
of every page; and untrusted text typed into the forms fires no script."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.helpers import ADMIN, PASSWORD, REQUESTER, expert_email
from tests.web.live import Live, chromium_path, screenshot_dir
from tests.web.test_security import XSS

playwright_api = pytest.importorskip("playwright.sync_api")

WIDTHS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


class User:
    """One person's browser tab; records any dialog a page opens (there must be none)."""

    def __init__(self, browser: object, live: Live, email: str, width: str) -> None:
        self.context = browser.new_context(viewport=WIDTHS[width], locale="vi-VN")
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.live, self.width = live, width
        self.page.goto(f"{live.url}/login")
        self.page.get_by_label("Thư điện tử").fill(email)
        self.page.get_by_label("Mật khẩu").fill(PASSWORD)
        self.page.get_by_role("button", name="Đăng nhập").click()
        self.page.wait_for_load_state()

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.live.url}{path}")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(screenshot_dir() / f"{name}-{self.width}.png"), full_page=True)

    def close(self) -> None:
        assert self.dialogs == []
        self.context.close()


def offered(live: Live, ticket_id: int) -> str:
    offers = live.api.get(f"/api/v1/tickets/{ticket_id}/offers", headers=live.network.admin).json()
    expert_id = next(o["expert_id"] for o in offers if o["state"] == "pending")
    return next(name for name, i in live.network.experts.items() if i == expert_id)


def file_problem(user: User, title: str, description: str, location: str = "UBND phường, tầng 1") -> int:
    page = user.page
    user.goto("/tickets/new")
    page.get_by_label("Tiêu đề").fill(title)
    page.get_by_label("Mô tả vướng mắc").fill(description)
    page.get_by_label("Mức ưu tiên").select_option("high")
    page.get_by_label("Phường/xã (có thể gõ không dấu)").fill("hoa cuong bac")
    page.get_by_label("Địa chỉ hoặc địa điểm").fill(location)
    page.get_by_label("Cần chuyên gia đến tận nơi").check()
    user.shot("01-problem-form")
    page.get_by_role("button", name="Kiểm tra và tiếp tục").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Trước khi gửi").is_visible()
    user.shot("02-problem-preview")
    page.get_by_role("button", name="Gửi vướng mắc").click()
    page.wait_for_url("**/tickets/*")
    return int(page.url.rsplit("/", 1)[1])


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_ticket_lives_its_whole_life_in_the_browser(browser: object, live: Live, width: str) -> None:
    requester = User(browser, live, REQUESTER, width)
    ticket_id = file_problem(requester, "Không ký số được hồ sơ DVCTT",
                             "Máy tính bộ phận một cửa không nhận USB token, không ký số được hồ sơ dịch vụ công.")
    page = requester.page
    assert page.locator("p.ward").inner_text() == "Phường/xã: Hòa Cường Bắc"
    assert "Đang tìm chuyên gia" in page.inner_text("main")
    requester.shot("03-ticket-filed")
    requester.goto("/tickets")
    requester.shot("04-my-problems")
    coordinator = User(browser, live, ADMIN, width)
    assert coordinator.page.get_by_role("heading", name="Bàn điều phối").is_visible()
    assert "Không ký số được hồ sơ DVCTT" in coordinator.page.inner_text("main")  # waiting in a queue
    coordinator.shot("08-coordinator-desk")

    expert = User(browser, live, expert_email(offered(live, ticket_id)), width)
    assert "Không ký số được hồ sơ DVCTT" in expert.page.inner_text("main")
    assert "Vì sao mời bạn" in expert.page.inner_text("main")
    expert.shot("05-expert-inbox")
    expert.goto("/profile")
    expert.page.get_by_label("Kỹ năng 2", exact=True).fill("an toan thong tin")
    expert.page.get_by_role("button", name="Lưu").click()
    expert.page.wait_for_load_state()
    assert "an toan thong tin → An toàn thông tin" in expert.page.inner_text("main")
    expert.shot("10-expert-profile")
    expert.goto("/inbox")
    expert.page.get_by_role("button", name="Nhận").first.click()
    expert.page.wait_for_url(f"**/tickets/{ticket_id}")
    expert.page.get_by_label("Nội dung", exact=True).fill("Cài lại driver USB token bản 2.3 rồi ký lại trên Cổng DVC.")
    expert.page.get_by_label("Loại").select_option("advice")
    expert.page.get_by_role("button", name="Gửi", exact=True).click()
    expert.page.wait_for_load_state()
    expert.page.get_by_label("Tóm tắt nội dung tư vấn").fill("Đã hướng dẫn cài lại driver.")
    expert.page.get_by_role("button", name="Giải quyết").click()
    expert.page.wait_for_load_state()
    assert "Đã giải quyết" in expert.page.inner_text("main")
    expert.shot("06-expert-ticket-resolved")

    requester.goto(f"/tickets/{ticket_id}")
    assert "Cài lại driver USB token" in page.inner_text("main")
    page.get_by_role("button", name="Xác nhận đã giải quyết xong").click()
    page.wait_for_load_state()
    page.get_by_label("Tư vấn hữu ích đến đâu? (1-5)").select_option("5")
    page.get_by_label("Vướng mắc đã được tháo gỡ").check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_load_state()
    assert "Đã đóng" in page.inner_text("main")
    requester.shot("07-requester-closed")

    coordinator.goto(f"/tickets/{ticket_id}")
    coordinator.page.get_by_role("button", name="Xếp hạng lại chuyên gia").click()
    coordinator.page.wait_for_load_state()
    assert coordinator.page.locator("table.candidates tbody tr").count() >= 1
    coordinator.shot("09-coordinator-ticket")
    coordinator.goto("/experts")
    coordinator.shot("11-experts-directory")
    coordinator.goto("/metrics")
    assert coordinator.page.locator("svg.chart rect").count() >= 1
    coordinator.shot("12-metrics")
    # Nothing overflows a phone screen sideways.
    for user in (requester, expert, coordinator):
        assert user.page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
        user.close()


def test_untrusted_text_typed_into_the_forms_fires_no_script(browser: object, live: Live) -> None:
    requester = User(browser, live, REQUESTER, "desktop")
    first = None
    for payload in XSS:
        ticket_id = file_problem(requester, f"Lỗi {payload}", f"Mô tả {payload} USB token ký số", location=payload)
        first = first or ticket_id
        heading = requester.page.locator("h1").inner_text()
        assert payload in heading  # shown as the text that was typed
    expert = User(browser, live, expert_email(offered(live, first)), "desktop")
    offer = expert.page.locator("article.offer", has_text=f"CDS-2026-{first:06d}")
    offer.get_by_role("button", name="Nhận").click()
    expert.page.wait_for_url(f"**/tickets/{first}")
    for payload in XSS[:8]:
        expert.page.get_by_label("Nội dung", exact=True).fill(payload)
        expert.page.get_by_role("button", name="Gửi", exact=True).click()
        expert.page.wait_for_load_state()
    requester.goto(f"/tickets/{first}")
    thread = requester.page.locator("ol.thread").inner_text()
    assert all(payload in thread for payload in XSS[:8])
    requester.goto("/tickets")
    coordinator = User(browser, live, ADMIN, "desktop")
    coordinator.goto(f"/tickets/{first}")
    for user in (requester, expert, coordinator):
        user.close()  # asserts no dialog opened on any page


LABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !(el.tagName === 'BUTTON' && el.innerText.trim()))
  .map(el => el.outerHTML.slice(0, 80))"""


def test_every_control_has_a_label_and_login_works_from_the_keyboard(browser: object, live: Live) -> None:
    context = browser.new_context(viewport=WIDTHS["phone"], locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live.url}/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"  # first stop: skip to content
    page.focus("#email")
    page.keyboard.type(REQUESTER)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/tickets")
    pages = ["/tickets", "/tickets/new", "/tickets/1"]
    for path in pages:
        page.goto(f"{live.url}{path}")
        assert page.evaluate(LABELLED) == [], path
    context.close()
    admin = User(browser, live, ADMIN, "phone")
    for path in ("/desk", "/experts", "/metrics", "/tickets/1"):
        admin.goto(path)
        assert admin.page.evaluate(LABELLED) == [], path
    admin.close()
    expert = User(browser, live, expert_email("dung"), "phone")
    for path in ("/inbox", "/profile"):
        expert.goto(path)
        assert expert.page.evaluate(LABELLED) == [], path
    expert.close()
