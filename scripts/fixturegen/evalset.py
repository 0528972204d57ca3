"""The team's labelled ranking set: 40 experts, 30 problems, each problem in five forms.

Relevance is judged by expertise, not by shared words: 3 = the specialist a coordinator would
pick, 2 = can clearly solve it, 1 = adjacent knowledge. Forms: ``vi`` as written, ``vi_nodiac``
typed without diacritics, ``vi_nfd_newtone`` with new-style tones (hoà, thuý) in NFD, ``en`` the
English version, ``vi_typo`` with the slips people make on phones (dropped or doubled letters,
missing tones on some words). Run: ``python3 scripts/fixturegen/evalset.py``.
"""

import json
import random
import re
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "src/expert_match/fixtures/eval/ranking.json"

# (id, language, documents, skills)
EXPERTS = [
    ("E01", "vi", ["Chuyên gia chữ ký số. Hỗ trợ cài đặt, gia hạn chứng thư số chuyên dùng, xử lý lỗi USB token không nhận và triển khai ký số từ xa trên điện thoại cho lãnh đạo phường."], ["Chữ ký số", "Hạ tầng khóa công khai"]),
    ("E02", "en", ["Digital signature and PKI consultant. Fixes token drivers and certificate chain errors, rolls out remote signing for officials."], ["Digital signature", "Public key infrastructure"]),
    ("E03", "vi", ["Tư vấn phần mềm quản lý văn bản và điều hành: cấu hình luồng văn bản đi, đến, liên thông văn bản bốn cấp, ký số văn bản điện tử."], ["Quản lý văn bản và điều hành", "Chữ ký số"]),
    ("E04", "vi", ["Kỹ sư triển khai hệ thống giải quyết thủ tục hành chính (một cửa điện tử). Xử lý lỗi hồ sơ không đồng bộ trạng thái lên Cổng Dịch vụ công quốc gia."], ["Phần mềm một cửa điện tử", "Dịch vụ công trực tuyến"]),
    ("E05", "en", ["Systems integration engineer: connects one-stop-shop software and sector systems to the national public service portal through REST APIs and message queues; reads sync logs."], ["API integration", "One-stop-shop system"]),
    ("E06", "vi", ["Hướng dẫn người dân nộp hồ sơ dịch vụ công trực tuyến toàn trình, thanh toán phí lệ phí trực tuyến, tập huấn cán bộ bộ phận một cửa."], ["Dịch vụ công trực tuyến", "Thanh toán không dùng tiền mặt", "Hỗ trợ người dân"]),
    ("E07", "vi", ["Kiến trúc sư tích hợp LGSP và NDXP: đăng ký dịch vụ, kết nối API giữa phần mềm chuyên ngành và trục chia sẻ dữ liệu, đồng bộ dữ liệu."], ["Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP)", "Tích hợp hệ thống qua API", "Kho dữ liệu"]),
    ("E08", "vi", ["Chuyên gia làm sạch dữ liệu dân cư theo Đề án 06, đối soát số định danh cá nhân, chuẩn hóa địa chỉ, hỗ trợ kích hoạt VNeID."], ["Cơ sở dữ liệu quốc gia về dân cư", "Làm sạch dữ liệu", "Định danh điện tử"]),
    ("E09", "vi", ["Tổ trưởng tổ công nghệ số cộng đồng: hướng dẫn người cao tuổi cài VNeID, nộp hồ sơ trực tuyến, dùng ví điện tử; tổ chức lớp kỹ năng số ở tổ dân phố."], ["Tổ công nghệ số cộng đồng", "Kỹ năng số", "Định danh điện tử"]),
    ("E10", "vi", ["Chuyên viên số hóa sổ hộ tịch: tổ chức nhập liệu sổ đăng ký khai sinh, kết hôn từ năm 1975, đối chiếu và kiểm tra chất lượng dữ liệu hộ tịch."], ["Hộ tịch điện tử", "Nhập liệu", "Số hóa hồ sơ, tài liệu"]),
    ("E11", "en", ["Digitisation specialist: scanning workflows, OCR field extraction from handwritten registers, metadata for electronic archives."], ["Document digitisation", "Optical character recognition", "Electronic archives"]),
    ("E12", "vi", ["Chuyên gia ứng cứu sự cố an toàn thông tin: xử lý mã độc, mã hóa tống tiền, khôi phục dữ liệu từ bản sao lưu, điều tra nguồn lây nhiễm."], ["Ứng cứu sự cố an toàn thông tin", "Xử lý mã độc", "Sao lưu, dự phòng dữ liệu"]),
    ("E13", "en", ["Incident response lead and penetration tester. Ransomware containment, malware cleanup of defaced websites, security audits before go-live."], ["Security incident response", "Security audit and penetration testing", "Information security"]),
    ("E14", "vi", ["Kỹ thuật viên hỗ trợ CNTT cho các phường không có cán bộ chuyên trách: cài phần mềm diệt virus, sửa máy tính, máy in, máy scan."], ["Hỗ trợ kỹ thuật CNTT", "Bảo vệ máy trạm", "Máy in, máy scan"]),
    ("E15", "vi", ["Tư vấn lập hồ sơ đề xuất cấp độ an toàn hệ thống thông tin, đánh giá rủi ro, xây dựng quy chế bảo đảm an toàn thông tin."], ["Bảo đảm an toàn hệ thống thông tin theo cấp độ", "Đánh giá rủi ro", "Bảo vệ dữ liệu cá nhân"]),
    ("E16", "en", ["Data protection lawyer: consent notices, data protection impact assessments and data-subject requests under Vietnam's 2025 personal data protection law."], ["Personal data protection", "IT law and regulation"]),
    ("E17", "vi", ["Kỹ sư hệ thống camera giám sát an ninh trật tự: khảo sát, sửa chữa camera, đầu ghi hình, kết nối về trung tâm IOC và phần mềm quản lý video."], ["Camera giám sát", "Phần mềm quản lý video (VMS)", "Trung tâm giám sát, điều hành thông minh (IOC)"]),
    ("E18", "en", ["Network and CCTV engineer: PoE switches, VLAN design, IP camera links, troubleshooting recorders that drop off the network."], ["Computer networking", "CCTV and surveillance cameras"]),
    ("E19", "vi", ["Chuyên gia bản đồ số GIS: xây dựng bản đồ chung cư, nhà trọ, cơ sở lưu trú, chuẩn hóa tọa độ VN-2000, WebGIS cho UBND quận."], ["Hệ thống thông tin địa lý (GIS)", "Bản đồ trực tuyến (WebGIS)", "Dữ liệu không gian, PostGIS"]),
    ("E20", "en", ["GIS developer: web maps with PostGIS and GeoServer, geocoding addresses, spatial data for city infrastructure."], ["Geographic information systems", "WebGIS", "Spatial databases and PostGIS"]),
    ("E21", "vi", ["Kỹ sư cơ sở dữ liệu đất đai: làm giàu, làm sạch dữ liệu địa chính, đối soát thửa đất với giấy chứng nhận, bản đồ địa chính số."], ["Cơ sở dữ liệu đất đai", "Làm sạch dữ liệu", "Hệ thống thông tin địa lý (GIS)"]),
    ("E22", "vi", ["Tư vấn hóa đơn điện tử khởi tạo từ máy tính tiền cho hộ kinh doanh, cài đặt phần mềm bán hàng kết nối cơ quan thuế, kê khai thuế điện tử."], ["Hóa đơn điện tử", "Máy tính tiền, phần mềm bán hàng", "Khai thuế điện tử"]),
    ("E23", "en", ["SME digital transformation consultant: cloud accounting, point-of-sale and e-invoicing, online shops for small businesses."], ["SME digitalisation", "E-invoicing", "E-commerce"]),
    ("E24", "vi", ["Chuyên gia thương mại điện tử: mở gian hàng trên sàn, quảng bá sản phẩm OCOP, tem truy xuất nguồn gốc mã QR, vận chuyển đơn hàng."], ["Thương mại điện tử", "Truy xuất nguồn gốc", "Tiếp thị số"]),
    ("E25", "vi", ["Kỹ sư mạng LAN, Wi-Fi trụ sở: thiết kế lại mạng nội bộ, tách mạng khách, đi dây, tủ rack, khắc phục mạng chập chờn giờ cao điểm."], ["Mạng máy tính", "Mạng không dây Wi-Fi", "Thi công cáp mạng"]),
    ("E26", "vi", ["Kỹ sư mạng truyền số liệu chuyên dùng: xử lý mất kết nối đến phần mềm dùng chung, phối hợp nhà mạng nâng băng thông, cấu hình VPN."], ["Mạng truyền số liệu chuyên dùng, VPN", "Làm việc với nhà cung cấp dịch vụ viễn thông"]),
    ("E27", "vi", ["Kỹ thuật viên sửa chữa máy tính, máy in, máy scan, cài driver cho máy cũ chạy Windows 7, bảo trì thiết bị định kỳ."], ["Sửa chữa, bảo trì thiết bị tin học", "Máy in, máy scan", "Hỗ trợ kỹ thuật CNTT"]),
    ("E28", "en", ["Systems administrator: virtualised servers, 3-2-1 backups with restore drills, moving on-premise applications to the city cloud."], ["Server administration", "Backup and disaster recovery", "Cloud computing"]),
    ("E29", "vi", ["Lập trình viên web: nâng cấp trang thông tin điện tử phường, làm sạch website bị chèn mã độc quảng cáo, cấu hình chứng chỉ SSL."], ["Phát triển web", "Trang thông tin điện tử, CMS", "Lưu trữ website, tên miền"]),
    ("E30", "vi", ["Giảng viên kỹ năng số: thiết kế chương trình tập huấn ngắn, thực hành cho cán bộ công chức lớn tuổi về phần mềm văn phòng, ký số, dịch vụ công."], ["Đào tạo, tập huấn", "Kỹ năng số", "Quản lý thay đổi"]),
    ("E31", "vi", ["Chuyên gia báo cáo thống kê và BI: tự động hóa báo cáo định kỳ từ nhiều tệp Excel, bảng điều khiển chỉ số cho trung tâm IOC."], ["Báo cáo thống kê, phân tích dữ liệu (BI)", "Excel và bảng tính", "Trực quan hóa dữ liệu"]),
    ("E32", "en", ["Data engineer: shared data warehouse, nightly ETL pipelines from sector systems, common code lists and data governance."], ["Data warehouse", "ETL and data synchronisation", "Data governance"]),
    ("E33", "vi", ["Kỹ thuật viên hội nghị truyền hình: lắp đặt điểm cầu họp trực tuyến cấp phường, xử lý tiếng rè, vọng, hình ảnh bị đứng."], ["Hội nghị truyền hình trực tuyến", "Thiết bị âm thanh, hình ảnh"]),
    ("E34", "en", ["AI engineer: Vietnamese chatbots that answer questions about administrative procedures from FAQ data, text classification of citizen feedback."], ["Chatbots and virtual assistants", "Natural language processing"]),
    ("E35", "vi", ["Chuyên gia y tế số: triển khai hồ sơ sức khỏe điện tử, kết nối dữ liệu khám chữa bệnh với cổng giám định bảo hiểm y tế."], ["Y tế số", "Bảo hiểm xã hội điện tử"]),
    ("E36", "vi", ["Tư vấn giáo dục số: học bạ số, sổ liên lạc điện tử, thu học phí không dùng tiền mặt cho trường mầm non, tiểu học."], ["Giáo dục số", "Thanh toán không dùng tiền mặt"]),
    ("E37", "en", ["Digital payments consultant: QR payments for public fees, payment gateways, reconciliation with the state treasury and school fee collection."], ["Cashless payments", "Online public services"]),
    ("E38", "vi", ["Chuyên gia dữ liệu mở: lựa chọn, chuẩn hóa bộ dữ liệu, siêu dữ liệu và công bố trên cổng dữ liệu mở của thành phố."], ["Dữ liệu mở", "Siêu dữ liệu"]),
    ("E39", "vi", ["Kỹ sư chuyển đổi dữ liệu sau sắp xếp đơn vị hành chính 2025: cập nhật mã phường, xã và địa chỉ mới trong phần mềm nghiệp vụ, giữ lịch sử hồ sơ."], ["Chuyển đổi, di chuyển dữ liệu", "Chuẩn hóa địa chỉ"]),
    ("E40", "en", ["Smart tourism consultant: online booking engines for homestays and small hotels, card and e-wallet payments for foreign guests."], ["Smart tourism", "Cashless payments"]),
]

# (id, Vietnamese text, English text, {expert: grade})
PROBLEMS = [
    ("P01", "Máy tính của chủ tịch phường không nhận USB token sau khi cập nhật Windows, không ký số được văn bản.", "After a Windows update the ward chairman's computer no longer recognises the USB token, so documents cannot be digitally signed.", {"E01": 3, "E02": 3, "E03": 2, "E14": 1}),
    ("P02", "Chứng thư số của lãnh đạo sắp hết hạn, cần hướng dẫn gia hạn và chuyển sang ký số từ xa trên điện thoại.", "The leaders' signing certificates expire soon; we need help renewing them and moving to remote signing on phones.", {"E01": 3, "E02": 3, "E03": 1}),
    ("P03", "Hồ sơ đã trả kết quả trên phần mềm một cửa vẫn hiện đang xử lý trên Cổng Dịch vụ công quốc gia.", "Cases closed in the one-stop-shop software still show as in progress on the national public service portal.", {"E04": 3, "E05": 3, "E07": 2, "E06": 1}),
    ("P04", "Tỷ lệ hồ sơ nộp trực tuyến toàn trình của phường thấp, người dân không biết cách nộp.", "Few residents apply fully online; most do not know how to submit applications on the portal.", {"E06": 3, "E09": 2, "E04": 2, "E30": 1}),
    ("P05", "Phần mềm chuyên ngành của sở gọi dịch vụ qua LGSP thường bị lỗi hết thời gian chờ.", "Our department's sector system keeps timing out when calling services through the LGSP.", {"E07": 3, "E05": 2, "E32": 1}),
    ("P06", "Còn hơn 1.500 trường hợp sai lệch giữa sổ hộ khẩu cũ và cơ sở dữ liệu dân cư, cần làm sạch theo Đề án 06.", "Over 1,500 records differ between old household registers and the population database and must be cleaned under Project 06.", {"E08": 3, "E39": 1, "E21": 1}),
    ("P07", "Người cao tuổi ở khu phố không tự kích hoạt được tài khoản định danh điện tử mức 2.", "Older residents cannot activate their level-2 electronic identification accounts on their own.", {"E09": 3, "E08": 2, "E06": 1}),
    ("P08", "Phường còn 4.000 trang sổ hộ tịch cũ chưa nhập vào phần mềm, nhiều trang viết tay bị mờ.", "The ward still has 4,000 pages of old civil status registers to enter, many handwritten and faded.", {"E10": 3, "E11": 2}),
    ("P09", "Máy tính kế toán bị mã hóa tống tiền, các tệp bị đổi đuôi và có thông báo đòi tiền chuộc.", "Ransomware encrypted the accounting computers: files renamed and a ransom note appeared.", {"E12": 3, "E13": 3, "E28": 1, "E14": 1}),
    ("P10", "Cần lập hồ sơ đề xuất cấp độ an toàn cho ba hệ thống thông tin của sở trước cuối năm.", "We must prepare security level dossiers for three of the department's information systems by year end.", {"E15": 3, "E13": 1}),
    ("P11", "Biểu mẫu trực tuyến thu số căn cước, số điện thoại của người dân nhưng chưa có nội dung xin đồng ý.", "Our online forms collect citizens' ID and phone numbers without any consent notice.", {"E16": 3, "E15": 2}),
    ("P12", "Trong 46 camera an ninh ở tổ dân phố chỉ còn 15 cái hoạt động, đầu ghi hay mất kết nối.", "Only 15 of 46 neighbourhood security cameras still work and the recorder keeps dropping off.", {"E17": 3, "E18": 3, "E25": 1}),
    ("P13", "Quận muốn đưa toàn bộ chung cư, nhà trọ lên bản đồ số để quản lý và phòng cháy.", "The district wants every apartment block and boarding house on a digital map for management and fire safety.", {"E19": 3, "E20": 3, "E21": 1}),
    ("P14", "Thông tin thửa đất trên cơ sở dữ liệu khác với giấy chứng nhận quyền sử dụng đất.", "Parcel data in the land database does not match the land use certificates.", {"E21": 3, "E19": 1}),
    ("P15", "Hộ kinh doanh phải dùng hóa đơn điện tử từ máy tính tiền nhưng phần mềm bán hàng không kết nối được với thuế.", "Our shop must issue cash-register e-invoices but the sales software cannot connect to the tax office.", {"E22": 3, "E23": 2}),
    ("P16", "Hợp tác xã muốn đưa sản phẩm OCOP lên sàn thương mại điện tử và in tem truy xuất nguồn gốc.", "Our co-operative wants to sell OCOP products on marketplaces and print QR traceability labels.", {"E24": 3, "E23": 2}),
    ("P17", "Mạng LAN trụ sở phường thường mất kết nối giờ cao điểm, Wi-Fi hội trường yếu.", "The ward office network drops at peak hours and the meeting hall Wi-Fi is weak.", {"E25": 3, "E18": 2, "E26": 1}),
    ("P18", "Xã không truy cập được phần mềm dùng chung qua mạng truyền số liệu chuyên dùng từ hôm qua.", "Since yesterday the commune cannot reach the shared software over the dedicated government network.", {"E26": 3, "E25": 1}),
    ("P19", "Máy scan mới không nhận driver trên máy tính cũ chạy Windows 7 ở bộ phận một cửa.", "The new scanner has no driver for the old Windows 7 computers at the service counter.", {"E27": 3, "E14": 3}),
    ("P20", "Máy chủ đặt tại phòng làm việc đã chạy 8 năm, ổ cứng báo lỗi và chưa từng được sao lưu.", "Our office server has run for eight years, its disks report errors and it was never backed up.", {"E28": 3, "E12": 1}),
    ("P21", "Trang thông tin điện tử của phường xuất hiện quảng cáo cờ bạc, chứng chỉ SSL hết hạn.", "Gambling ads appeared on the ward website and its SSL certificate has expired.", {"E29": 3, "E13": 2}),
    ("P22", "Cán bộ lớn tuổi chưa dùng thành thạo phần mềm, cần lớp tập huấn kỹ năng số ngắn.", "Older officials struggle with the software; we need short digital skills training.", {"E30": 3, "E09": 1}),
    ("P23", "Mỗi tháng cán bộ tổng hợp số liệu từ hơn 20 tệp Excel để làm báo cáo chuyển đổi số.", "Every month staff merge more than twenty Excel files into the digital transformation report.", {"E31": 3, "E32": 2}),
    ("P24", "Dữ liệu của sở nằm trong nhiều phần mềm, các đơn vị dùng mã danh mục khác nhau nên số liệu không khớp.", "Department data sits in many systems and units use different code lists, so figures never match.", {"E32": 3, "E07": 2, "E31": 1}),
    ("P25", "Họp trực tuyến với thành phố thì âm thanh từ điểm cầu phường bị rè và vọng.", "In online meetings with the city the ward's audio is distorted and echoes.", {"E33": 3}),
    ("P26", "Muốn xây dựng trợ lý ảo trả lời câu hỏi thường gặp về thủ tục hành chính.", "We want a virtual assistant that answers common questions about administrative procedures.", {"E34": 3}),
    ("P27", "Trạm y tế phải nhập lại dữ liệu khám bệnh vào nhiều phần mềm, chưa kết nối được cổng giám định bảo hiểm.", "The health station retypes visit data into several systems and cannot connect to the insurance portal.", {"E35": 3}),
    ("P28", "Trường mầm non muốn thu học phí không dùng tiền mặt thay vì phụ huynh nộp cho giáo viên.", "A kindergarten wants cashless fee collection instead of parents paying teachers in cash.", {"E36": 3, "E37": 3}),
    ("P29", "Sau sáp nhập phường, phần mềm nghiệp vụ vẫn in tên và địa chỉ đơn vị cũ.", "After the ward merger the line software still prints the old unit names and addresses.", {"E39": 3, "E08": 1}),
    ("P30", "Văn bản gửi liên thông lên quận bị trả về, lãnh đạo muốn theo dõi hạn xử lý văn bản.", "Documents sent to the district are returned, and leaders want to track document deadlines.", {"E03": 3, "E01": 1}),
]

_D = str.maketrans({"đ": "d", "Đ": "D"})


def no_diacritics(text):
    return unicodedata.normalize("NFC", "".join(
        c for c in unicodedata.normalize("NFD", text.translate(_D)) if unicodedata.category(c) != "Mn"))


def new_tones_nfd(text):
    """hòa -> hoà, thúy -> thuý, khỏe -> khoẻ (new-style placement), then decomposed (NFD)."""
    def move(m):
        first, tone, second = m.groups()
        return first + second + tone
    decomposed = unicodedata.normalize("NFD", text)
    tones = "[\u0300\u0301\u0303\u0309\u0323]"
    # Only the open rhymes oa, oe, uy change placement (hòa/hoà, khỏe/khoẻ, thúy/thuý); never after q.
    for pattern in (r"(?<![qQ])([oO])(" + tones + r")([aeAE])(?![^\W\d_])", r"(?<![qQ])([uU])(" + tones + r")([yY])(?![^\W\d_])"):
        decomposed = re.sub(pattern, move, decomposed)
    return decomposed


def typos(text, rng):
    words = text.split(" ")
    for i, word in enumerate(words):
        roll = rng.random()
        if len(word) > 3 and roll < 0.15:
            j = rng.randrange(1, len(word) - 1)
            words[i] = word[:j] + word[j + 1:]  # a dropped letter
        elif len(word) > 2 and roll < 0.25:
            j = rng.randrange(0, len(word))
            words[i] = word[:j] + word[j] + word[j:]  # a doubled letter
        elif roll < 0.45:
            words[i] = no_diacritics(word)  # tones skipped on a word
    return " ".join(words)


def main():
    rng = random.Random(30)
    experts = [{"id": i, "language": lang, "documents": docs, "skills": skills} for i, lang, docs, skills in EXPERTS]
    queries = []
    for pid, vi, en, relevance in PROBLEMS:
        forms = {"vi": vi, "vi_nodiac": no_diacritics(vi), "vi_nfd_newtone": new_tones_nfd(vi), "en": en,
                 "vi_typo": typos(vi, rng)}
        for form, text in forms.items():
            queries.append({"id": f"{pid}-{form}", "group": pid, "form": form, "text": text, "relevance": relevance})
    OUT.write_text(json.dumps({"experts": experts, "queries": queries}, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"{OUT}: {len(experts)} experts, {len(queries)} queries")


if __name__ == "__main__":
    main()
