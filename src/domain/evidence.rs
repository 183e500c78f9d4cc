//! Evidence files (佐证材料) on reports: which files are accepted, told by their content, never
//! by their name or the type a client claims; how a file's name goes back in a download; and
//! which of a report's files a reader sees.
//!
//! **Accepted types**: PDF, Word (DOCX, DOC), Excel (XLSX, XLS), WPS, OFD (the national
//! standard for fixed-layout documents), JPEG, PNG and ZIP. Office Open XML, OFD and ZIP files
//! are all ZIP containers and are told apart by the entries they hold; DOC, XLS and WPS are
//! all OLE2 compound files and are told apart by the name's extension among those three only
//! (the content decides that it is one of them).
//!
//! **Which files**: a report's working copy is what its unit edits (drafts, or a returned report
//! being corrected); each sent revision keeps the files it was sent with, which can no longer
//! change. A file removed from the working copy after it was sent stays in the revisions that
//! had it.

use serde::Serialize;
use utoipa::ToSchema;

/// What a file was found to be by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum FileKind {
    Pdf,
    Docx,
    Xlsx,
    Doc,
    Xls,
    Wps,
    Ofd,
    Jpeg,
    Png,
    Zip,
}

impl FileKind {
    /// Every accepted kind.
    pub const ALL: [FileKind; 10] = [
        FileKind::Pdf,
        FileKind::Docx,
        FileKind::Xlsx,
        FileKind::Doc,
        FileKind::Xls,
        FileKind::Wps,
        FileKind::Ofd,
        FileKind::Jpeg,
        FileKind::Png,
        FileKind::Zip,
    ];

    /// The media type served with it.
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Doc => "application/msword",
            FileKind::Xls => "application/vnd.ms-excel",
            FileKind::Wps => "application/vnd.ms-works",
            FileKind::Ofd => "application/ofd",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Zip => "application/zip",
        }
    }
}

/// The accepted types, as a problem names them.
pub const ACCEPTED: &str = "PDF, DOCX, XLSX, DOC, XLS, WPS, OFD, JPEG, PNG or ZIP";

/// How many leading bytes [`sniff`] needs at most to decide (the ZIP entries it looks for are
/// named in the first local headers; a file shorter than this is read whole).
pub const SNIFF_BYTES: usize = 64 * 1024;

const OLE2: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const PNG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// The type of a file from its first bytes (up to [`SNIFF_BYTES`]) and, for OLE2 files only,
/// its name's extension; `None` for anything not accepted.
pub fn sniff(head: &[u8], file_name: &str) -> Option<FileKind> {
    if head.starts_with(b"%PDF-") {
        return Some(FileKind::Pdf);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(FileKind::Jpeg);
    }
    if head.starts_with(&PNG) {
        return Some(FileKind::Png);
    }
    if head.starts_with(&OLE2) {
        let ext = extension(file_name);
        return Some(match ext.as_deref() {
            Some("xls") | Some("et") => FileKind::Xls,
            Some("wps") => FileKind::Wps,
            _ => FileKind::Doc,
        });
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        let names = zip_entry_names(head);
        let has = |p: &str| names.iter().any(|n| n.starts_with(p));
        return Some(if has("word/") {
            FileKind::Docx
        } else if has("xl/") {
            FileKind::Xlsx
        } else if names.iter().any(|n| n.eq_ignore_ascii_case("OFD.xml")) {
            FileKind::Ofd
        } else {
            FileKind::Zip
        });
    }
    None
}

/// The lower-case extension of a file name.
fn extension(name: &str) -> Option<String> {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| !e.is_empty())
}

/// The names of the ZIP entries whose local headers lie within `head`.
fn zip_entry_names(head: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut at = 0;
    while at + 30 <= head.len() && head[at..].starts_with(b"PK\x03\x04") {
        let u16_at = |i: usize| u16::from_le_bytes([head[at + i], head[at + i + 1]]) as usize;
        let u32_at = |i: usize| {
            u32::from_le_bytes([
                head[at + i],
                head[at + i + 1],
                head[at + i + 2],
                head[at + i + 3],
            ]) as usize
        };
        let flags = u16_at(6);
        let compressed = u32_at(18);
        let (name_len, extra_len) = (u16_at(26), u16_at(28));
        let name_end = at + 30 + name_len;
        if name_end > head.len() {
            break;
        }
        names.push(String::from_utf8_lossy(&head[at + 30..name_end]).into_owned());
        // With a data descriptor the size is not in the header: stop at the first such entry.
        if flags & 0x08 != 0 {
            break;
        }
        at = name_end + extra_len + compressed;
    }
    names
}

/// A file name as kept: the last path segment a client sent, without control characters,
/// trimmed, at most 255 characters; `None` when nothing is left.
pub fn clean_file_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let cleaned = cleaned.trim().to_owned();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

/// The `Content-Disposition` of a download (RFC 6266): an ASCII fallback name and the real
/// name in UTF-8 (RFC 5987 / 8187 `filename*`), so that Chinese names survive every browser.
pub fn content_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' && c != '%' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in file_name.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b);
        if keep {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Which of a report's files a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The working copy's (its own unit).
    WorkingCopy,
    /// Those it was sent with in this revision (anyone else allowed to read it).
    Revision(i32),
}

impl Seen {
    /// What `reader` sees of a report of `owner` last sent as revision `sent` (`None`: never
    /// sent, so nothing for anyone but its unit).
    pub fn by(
        reader: crate::store::reports::Reader,
        owner: crate::domain::ids::UnitId,
        sent: Option<i32>,
    ) -> Option<Seen> {
        if reader.sees_working_copy(owner) {
            Some(Seen::WorkingCopy)
        } else {
            sent.map(Seen::Revision)
        }
    }

    /// True when a file sent first with revision `first`, kept up to revision `last`, and
    /// `removed` from the working copy or not, is among these.
    pub fn holds(self, first: Option<i32>, last: Option<i32>, removed: bool) -> bool {
        match self {
            Seen::WorkingCopy => !removed,
            Seen::Revision(r) => in_revision(first, last, r),
        }
    }
}

/// True when a file sent first with revision `first` (`None`: never sent) and kept up to
/// revision `last` (`None`: still in the working copy) belongs to revision `revision`.
pub fn in_revision(first: Option<i32>, last: Option<i32>, revision: i32) -> bool {
    first.is_some_and(|f| f <= revision) && last.is_none_or(|l| l >= revision)
}

/// Lower-case hex of bytes (SHA-256 digests).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for n in names {
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&3u32.to_le_bytes()); // compressed size
            out.extend_from_slice(&3u32.to_le_bytes()); // uncompressed size
            out.extend_from_slice(&(n.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b"abc");
        }
        out
    }

    #[test]
    fn files_are_told_by_their_content_not_their_name() {
        assert_eq!(sniff(b"%PDF-1.7\n", "notice.docx"), Some(FileKind::Pdf));
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0], "a.pdf"),
            Some(FileKind::Jpeg)
        );
        assert_eq!(sniff(&PNG, "x"), Some(FileKind::Png));
        assert_eq!(
            sniff(b"MZ\x90\x00", "minutes.pdf"),
            None,
            "a program is refused"
        );
        assert_eq!(sniff(b"<html>", "a.pdf"), None);
        assert_eq!(sniff(b"", "a.pdf"), None);
        assert_eq!(
            sniff(
                &zip_with(&["[Content_Types].xml", "word/document.xml"]),
                "a.zip"
            ),
            Some(FileKind::Docx)
        );
        assert_eq!(
            sniff(
                &zip_with(&["[Content_Types].xml", "xl/workbook.xml"]),
                "a.docx"
            ),
            Some(FileKind::Xlsx)
        );
        assert_eq!(
            sniff(&zip_with(&["OFD.xml", "Doc_0/Document.xml"]), "a"),
            Some(FileKind::Ofd)
        );
        assert_eq!(
            sniff(&zip_with(&["名单.txt"]), "a.docx"),
            Some(FileKind::Zip)
        );
        let mut ole = OLE2.to_vec();
        ole.extend_from_slice(&[0; 32]);
        assert_eq!(sniff(&ole, "会议纪要.DOC"), Some(FileKind::Doc));
        assert_eq!(sniff(&ole, "台账.xls"), Some(FileKind::Xls));
        assert_eq!(sniff(&ole, "通知.wps"), Some(FileKind::Wps));
        assert_eq!(sniff(&ole, "通知.exe"), Some(FileKind::Doc));
    }

    #[test]
    fn a_sent_file_stays_in_the_revisions_that_had_it() {
        // Never sent: in no revision.
        assert!(!in_revision(None, None, 1));
        // Sent with revision 2, still there: in 2 and later, not in 1.
        assert!(!in_revision(Some(2), None, 1));
        assert!(in_revision(Some(2), None, 2) && in_revision(Some(2), None, 5));
        // Removed after revision 3 was sent: in 2 and 3 only.
        assert!(in_revision(Some(2), Some(3), 3) && !in_revision(Some(2), Some(3), 4));
    }

    #[test]
    fn chinese_names_survive_the_download_header() {
        let h = content_disposition("培训签到表 2019.pdf");
        assert_eq!(
            h,
            "attachment; filename=\"_____ 2019.pdf\"; \
             filename*=UTF-8''%E5%9F%B9%E8%AE%AD%E7%AD%BE%E5%88%B0%E8%A1%A8%202019.pdf"
        );
        let quoted = content_disposition("a\"b\\c%.pdf");
        assert!(
            quoted.starts_with("attachment; filename=\"a_b_c_.pdf\""),
            "{quoted}"
        );
    }

    #[test]
    fn names_lose_their_path_and_control_characters() {
        assert_eq!(
            clean_file_name("C:\\docs\\纪要.pdf").as_deref(),
            Some("纪要.pdf")
        );
        assert_eq!(
            clean_file_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(clean_file_name("a\u{0}b\n.pdf").as_deref(), Some("ab.pdf"));
        assert_eq!(clean_file_name(" .. "), None);
        assert_eq!(clean_file_name(""), None);
        assert_eq!(
            clean_file_name(&"长".repeat(300)).map(|n| n.chars().count()),
            Some(255)
        );
    }
}
