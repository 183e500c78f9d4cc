//! Text as people type it and as the databases keep it.
//!
//! Two rules live here, each once: which text a backend cannot store ([`storable`]: PostgreSQL
//! refuses U+0000 in `text`, so the API refuses it everywhere, on both backends), and how a
//! document number (文号) typed into a cell is read ([`document_numbers`]): line breaks and
//! spaces inside a number, full-width digits, and the year's brackets 〔〕 typed as `[]`, `（）`,
//! `()`, `［］`, `【】` or `﹝﹞` all read as the one canonical number.

/// What a problem says about a value holding U+0000.
pub const NUL_MESSAGE: &str = "contains the NUL character (U+0000), which cannot be stored";

/// True when both backends can store `text` (it holds no U+0000).
pub fn storable(text: &str) -> bool {
    !text.contains('\0')
}

/// What separates the documents of a 任务来源 cell.
const SEPARATORS: [char; 5] = ['、', '，', ',', '；', ';'];

/// Brackets typed around the year of a document number, opening and closing.
const OPEN: [char; 7] = ['〔', '[', '［', '(', '（', '【', '﹝'];
const CLOSE: [char; 7] = ['〕', ']', '］', ')', '）', '】', '﹞'];

/// A full-width digit as its ASCII digit; anything else unchanged.
fn half_width(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        _ => c,
    }
}

/// One document number in its canonical form: no whitespace (line breaks included), digits
/// half-width, and a four-digit year in 〔〕 whichever brackets were typed around it
/// (`渝委发 [2016] 27号` → `渝委发〔2016〕27号`). Brackets around anything else are kept, so a
/// title such as `《办法（试行）》` is not altered.
pub fn document_number(text: &str) -> String {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(half_width)
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let year = chars.get(i + 1..i + 5);
        if OPEN.contains(&chars[i])
            && year.is_some_and(|y| y.iter().all(char::is_ascii_digit))
            && chars.get(i + 5).is_some_and(|c| CLOSE.contains(c))
        {
            out.push('〔');
            out.extend(&chars[i + 1..i + 5]);
            out.push('〕');
            i += 6;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// True when `text` ends a document: a number ends with 号, a title with 》.
fn complete(text: &str) -> bool {
    text.ends_with('号') || text.ends_with('》')
}

/// The document numbers of a 任务来源 cell, each in the form of [`document_number`], in order,
/// each once. Documents are separated by 、，,；; or by a line break after a complete number
/// (one ending in 号 or 》); a line break anywhere else is the cell wrapping inside one number,
/// as in the seed's `渝委发` / `〔2016〕27号`.
pub fn document_numbers(cell: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |number: String| {
        if !number.is_empty() && !out.contains(&number) {
            out.push(number);
        }
    };
    for piece in cell.split(SEPARATORS) {
        let mut current = String::new();
        for line in piece.split(['\n', '\r', '\u{2028}', '\u{2029}']) {
            if complete(&current) {
                push(document_number(&std::mem::take(&mut current)));
            }
            current.push_str(line);
        }
        push(document_number(&current));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_the_one_character_that_cannot_be_stored() {
        assert!(storable("渝委发〔2016〕27号\n\t"));
        assert!(!storable("a\0b"));
    }

    #[test]
    fn a_number_broken_over_two_lines_is_one_number() {
        assert_eq!(
            document_numbers("渝委发\n〔2016〕27号"),
            vec!["渝委发〔2016〕27号"]
        );
        assert_eq!(
            document_numbers("国办发〔2019〕9号、渝府办发\r\n〔2019〕59号"),
            vec!["国办发〔2019〕9号", "渝府办发〔2019〕59号"]
        );
    }

    #[test]
    fn a_line_break_after_a_complete_number_separates_two() {
        assert_eq!(
            document_numbers("国办发〔2019〕9号\n渝府办发〔2019〕59号"),
            vec!["国办发〔2019〕9号", "渝府办发〔2019〕59号"]
        );
    }

    #[test]
    fn brackets_digits_and_spaces_are_read_as_typed() {
        for typed in [
            "渝委发[2016]27号",
            "渝委发（2016）27号",
            "渝委发(2016)27号",
            "渝委发［2016］27号",
            "渝委发【2016】27号",
            "渝委发﹝2016﹞27号",
            "渝委发 〔２０１６〕 ２７号",
            "渝委发\u{3000}〔2016〕27 号",
        ] {
            assert_eq!(document_number(typed), "渝委发〔2016〕27号", "{typed}");
        }
        assert_eq!(
            document_number("《重庆市行政规范性文件管理办法（试行）》"),
            "《重庆市行政规范性文件管理办法（试行）》"
        );
        assert_eq!(document_number("国令第713号"), "国令第713号");
    }

    #[test]
    fn duplicates_and_empty_pieces_are_dropped() {
        assert_eq!(
            document_numbers("渝委发〔2016〕27号，渝委发[2016]27号;;\n"),
            vec!["渝委发〔2016〕27号"]
        );
        assert!(document_numbers(" \n ").is_empty());
    }

    /// A small deterministic generator, so the property below needs no extra crate.
    struct Lcg(u64);
    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) as usize) % n
        }
    }

    /// Retypes a canonical number the ways people do: other brackets, full-width digits,
    /// spaces and line breaks anywhere inside it.
    fn retype(number: &str, rng: &mut Lcg) -> String {
        let pair = rng.below(OPEN.len());
        let mut out = String::new();
        for c in number.chars() {
            let c = match c {
                '〔' => OPEN[pair],
                '〕' => CLOSE[pair],
                '0'..='9' if rng.below(2) == 0 => {
                    char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()
                }
                c => c,
            };
            out.push(c);
            if rng.below(4) == 0 {
                out.push([' ', '\n', '\u{3000}', '\t', '\r'][rng.below(5)]);
            }
        }
        out
    }

    #[test]
    fn any_retyping_of_the_seed_numbers_reads_back_as_the_numbers() {
        let numbers = [
            "渝委发〔2016〕27号",
            "渝府办发〔2019〕59号",
            "国办发〔2019〕9号",
            "国办发〔2018〕115号",
            "渝委办〔2018〕26号",
            "国令第713号",
        ];
        let mut rng = Lcg(2019);
        for _ in 0..2000 {
            let n = 1 + rng.below(3);
            let picked: Vec<&str> = (0..n).map(|_| numbers[rng.below(numbers.len())]).collect();
            let cell = picked
                .iter()
                .map(|x| retype(x, &mut rng))
                .collect::<Vec<_>>()
                .join(["、", "，", ",", "；", ";"][rng.below(5)]);
            let mut expected: Vec<String> = Vec::new();
            for p in &picked {
                if !expected.iter().any(|e| e == p) {
                    expected.push(p.to_string());
                }
            }
            assert_eq!(document_numbers(&cell), expected, "{cell:?}");
        }
    }
}
