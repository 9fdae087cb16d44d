//! Ready-made documents for the receipt printer, each a pure function of
//! a plain struct, laid out for 80 mm (48 columns) and 58 mm (32 columns)
//! paper: a case receipt (办件回执), a queue ticket (排队凭条) and a
//! payment receipt (缴费凭证).
//!
//! Every text row fits the paper: long text is wrapped at the right
//! column with [`super::wrap_columns`] (Chinese two columns a character,
//! Latin one), so the printer never wraps a row itself. Times are passed
//! in already formatted (`2026-11-28 09:30`): this crate has no clock.
//! Personal data is masked here, whatever the caller passes.

use super::{Align, BarcodeKind, Block, PaperWidth, QrLevel, Receipt, TextSize};

/// Masks a payer for paper: a name keeps its first character (`张三` →
/// `张*`, `欧阳娜娜` → `欧***`); a phone or account number keeps its first
/// three and last four characters (`13812345678` → `138****5678`);
/// anything of seven characters or fewer keeps only its last two.
pub fn mask_payer(payer: &str) -> String {
    let chars: Vec<char> = payer.trim().chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    if chars.iter().all(|c| c.is_ascii_alphanumeric()) {
        if n > 7 {
            let head: String = chars.iter().take(3).collect();
            let tail: String = chars.iter().skip(n - 4).collect();
            return format!("{head}{}{tail}", "*".repeat(n - 7));
        }
        let tail: String = chars.iter().skip(n.saturating_sub(2)).collect();
        return format!("{}{tail}", "*".repeat(n.saturating_sub(2)));
    }
    let first: String = chars.iter().take(1).collect();
    format!("{first}{}", "*".repeat(n - 1))
}

/// An amount in fen as yuan with two decimals: `12345` → `123.45`.
pub fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// What goes on a case receipt (办件回执).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReceipt {
    pub width: PaperWidth,
    /// Service centre printed under the title.
    pub centre: String,
    pub case_number: String,
    /// The service item (事项).
    pub item: String,
    /// Applicant, already masked by the caller or masked here as a name.
    pub applicant: String,
    /// Status text (受理中, 已办结, …).
    pub status: String,
    pub time: String,
    /// Where the resident can follow the case (the QR code).
    pub query_url: String,
}

/// A case receipt: title, centre, the case number as text, CODE128 and
/// QR, the item, the masked applicant, the status and the time.
pub fn case_receipt(c: &CaseReceipt) -> Receipt {
    let w = c.width;
    Receipt::new(w)
        .wrapped("办件回执", Align::Centre, TextSize::DOUBLE, true)
        .wrapped(&c.centre, Align::Centre, TextSize::NORMAL, false)
        .rule()
        .pair("办件编号：", &c.case_number)
        .pair("事项：", &c.item)
        .pair("申请人：", &mask_payer(&c.applicant))
        .pair("状态：", &c.status)
        .pair("时间：", &c.time)
        .rule()
        .barcode(BarcodeKind::Code128, c.case_number.clone())
        .feed(1)
        .qr_sized(&c.query_url, w)
        .wrapped("扫码查询办理进度", Align::Centre, TextSize::NORMAL, false)
        .feed(1)
        .cut()
}

/// What goes on a queue ticket (排队凭条).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueTicket {
    pub width: PaperWidth,
    pub centre: String,
    /// The queue number, `A012`.
    pub number: String,
    /// The service queued for.
    pub service: String,
    /// People waiting before this ticket.
    pub waiting: u32,
    pub time: String,
    /// Payload of the QR code (follow the queue on a phone).
    pub qr: String,
}

/// A queue ticket: the number very large, the service, the people
/// waiting, the time and a QR.
pub fn queue_ticket(t: &QueueTicket) -> Receipt {
    let w = t.width;
    // The number as large as fits: quadruple on 80 mm for up to 12
    // columns, triple on 58 mm, double if it is long.
    let cols = w.columns();
    let ncols = super::text_columns(&t.number).max(1);
    let mag = (1..=4u8)
        .rev()
        .find(|m| ncols * usize::from(*m) <= cols)
        .unwrap_or(1);
    let big = TextSize {
        width: mag,
        height: mag,
    };
    Receipt::new(w)
        .wrapped(&t.centre, Align::Centre, TextSize::NORMAL, true)
        .wrapped("排队凭条", Align::Centre, TextSize::DOUBLE, true)
        .rule()
        .wrapped("您的排队号", Align::Centre, TextSize::NORMAL, false)
        .wrapped(&t.number, Align::Centre, big, true)
        .feed(1)
        .pair("办理业务：", &t.service)
        .pair("前面等候：", &format!("{} 人", t.waiting))
        .pair("取号时间：", &t.time)
        .rule()
        .qr_sized(&t.qr, w)
        .wrapped(
            "请留意叫号，过号请重新取号",
            Align::Centre,
            TextSize::NORMAL,
            false,
        )
        .feed(1)
        .cut()
}

/// What goes on a payment receipt (缴费凭证).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentReceipt {
    pub width: PaperWidth,
    pub centre: String,
    /// What was paid for.
    pub item: String,
    /// Amount in fen (分).
    pub amount_fen: u64,
    /// Payer as given (name, phone or account); masked on paper.
    pub payer: String,
    /// Payment channel (微信支付, 支付宝, 银联).
    pub channel: String,
    /// Order number: printed as text, CODE128 and QR.
    pub order_number: String,
    pub time: String,
}

/// A payment receipt: the amount in 元 with two decimals, the payer
/// masked, the order number as text, CODE128 and QR, and the time.
pub fn payment_receipt(p: &PaymentReceipt) -> Receipt {
    let w = p.width;
    Receipt::new(w)
        .wrapped("缴费凭证", Align::Centre, TextSize::DOUBLE, true)
        .wrapped(&p.centre, Align::Centre, TextSize::NORMAL, false)
        .rule()
        .pair("缴费项目：", &p.item)
        .pair("金额（元）：", &yuan(p.amount_fen))
        .pair("付款人：", &mask_payer(&p.payer))
        .pair("支付方式：", &p.channel)
        .pair("订单号：", &p.order_number)
        .pair("时间：", &p.time)
        .rule()
        .barcode(BarcodeKind::Code128, p.order_number.clone())
        .feed(1)
        .qr_sized(&p.order_number, w)
        .wrapped("请妥善保管本凭证", Align::Centre, TextSize::NORMAL, false)
        .feed(1)
        .cut()
}

impl Receipt {
    /// A QR code whose module size suits the paper (6 dots on 80 mm, 4
    /// on 58 mm).
    fn qr_sized(mut self, data: &str, width: PaperWidth) -> Self {
        let module_size = match width {
            PaperWidth::Mm80 => 6,
            PaperWidth::Mm58 => 4,
        };
        self.blocks.push(Block::Qr {
            data: data.to_string(),
            module_size,
            level: QrLevel::M,
        });
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::super::{text_columns, wrap_columns};
    use super::*;

    fn rows_fit(r: &Receipt) {
        for b in &r.blocks {
            if let Block::Text(t) = b {
                let cols = r.width.columns() / usize::from(t.size.width);
                assert!(
                    text_columns(&t.text) <= cols,
                    "{:?} is wider than {cols} columns",
                    t.text
                );
            }
        }
    }

    fn ticket(width: PaperWidth) -> QueueTicket {
        QueueTicket {
            width,
            centre: "卫东区政务服务中心".into(),
            number: "A012".into(),
            service: "城乡居民最低生活保障申请及社会救助综合窗口办理".into(),
            waiting: 7,
            time: "2026-11-28 09:30".into(),
            qr: "https://zwfw.example.gov.cn/q/A012".into(),
        }
    }

    #[test]
    fn wrapping_counts_chinese_as_two_columns_and_keeps_words() {
        assert_eq!(
            wrap_columns("政务服务一网通办", 7),
            vec!["政务服", "务一网", "通办"]
        );
        assert_eq!(
            wrap_columns("hello kiosk world", 11),
            vec!["hello kiosk", "world"]
        );
        assert_eq!(wrap_columns("申请ABC def", 6), vec!["申请", "ABC", "def"]);
        assert_eq!(wrap_columns("", 10), vec![""]);
        for row in wrap_columns(&"办".repeat(30), 31) {
            assert!(text_columns(&row) <= 31);
        }
    }

    #[test]
    fn every_document_fits_both_widths() {
        for w in [PaperWidth::Mm80, PaperWidth::Mm58] {
            rows_fit(&queue_ticket(&ticket(w)));
            rows_fit(&payment_receipt(&PaymentReceipt {
                width: w,
                centre: "卫东区政务服务中心".into(),
                item: "不动产登记费（住宅）".into(),
                amount_fen: 8000,
                payer: "张三丰".into(),
                channel: "微信支付".into(),
                order_number: "20261128093000123456".into(),
                time: "2026-11-28 09:30".into(),
            }));
            rows_fit(&case_receipt(&CaseReceipt {
                width: w,
                centre: "卫东区政务服务中心".into(),
                case_number: "41040320261128000001".into(),
                item: "城乡居民最低生活保障申请".into(),
                applicant: "李秀英".into(),
                status: "受理中".into(),
                time: "2026-11-28 09:30".into(),
                query_url: "https://zwfw.example.gov.cn/c/41040320261128000001".into(),
            }));
        }
    }

    #[test]
    fn payment_amount_and_payer_are_shown_as_a_person_expects() {
        assert_eq!(yuan(8000), "80.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(123456), "1234.56");
        assert_eq!(mask_payer("张三丰"), "张**");
        assert_eq!(mask_payer("13812345678"), "138****5678");
        assert_eq!(mask_payer("ab12"), "**12");
        let r = payment_receipt(&PaymentReceipt {
            width: PaperWidth::Mm58,
            centre: "中心".into(),
            item: "工本费".into(),
            amount_fen: 1050,
            payer: "13812345678".into(),
            channel: "银联".into(),
            order_number: "P2026112800001".into(),
            time: "2026-11-28 09:30".into(),
        });
        let text = r.plain_text();
        assert!(text.contains("10.50"), "{text}");
        assert!(text.contains("138****5678"));
        assert!(!text.contains("13812345678"));
        assert!(r.blocks.contains(&Block::Barcode {
            kind: BarcodeKind::Code128,
            data: "P2026112800001".into(),
            height: 80
        }));
    }

    #[test]
    fn the_queue_number_is_as_big_as_the_paper_allows() {
        let big = |w| {
            queue_ticket(&ticket(w))
                .blocks
                .iter()
                .find_map(|b| match b {
                    Block::Text(t) if t.text == "A012" => Some(t.size.width),
                    _ => None,
                })
                .unwrap()
        };
        assert_eq!(big(PaperWidth::Mm80), 4);
        assert_eq!(big(PaperWidth::Mm58), 4);
        let r = queue_ticket(&ticket(PaperWidth::Mm58));
        assert!(r.plain_text().contains("7 人"));
    }

    #[test]
    fn a_reprint_is_labelled_and_can_start_mid_receipt() {
        let r = queue_ticket(&ticket(PaperWidth::Mm80));
        let all = r.reprint(None);
        assert!(all.plain_text().starts_with("补打"));
        assert_eq!(all.blocks.len(), r.blocks.len() + 1);
        let rest = r.reprint(Some(5));
        assert_eq!(rest.blocks.len(), r.blocks.len() - 5 + 1);
        assert_eq!(&rest.blocks[1..], &r.blocks[5..]);
    }

    #[test]
    fn a_grey_picture_dithers_to_about_half_the_dots() {
        let gray = vec![128u8; 64 * 32];
        let Block::Raster {
            width,
            height,
            bits,
        } = super::super::raster_from_gray(64, 32, &gray, 128)
        else {
            panic!()
        };
        assert_eq!((width, height), (128, 64));
        let ones: u32 = bits.iter().map(|b| b.count_ones()).sum();
        let total = width * height;
        assert!(
            ones > total * 2 / 5 && ones < total * 3 / 5,
            "{ones}/{total}"
        );
    }
}
