//! The summary table (2019年法治政府建设任务完成情况汇总) as CSV: its columns, reading and writing.
//!
//! One row per measure, in plan order, with the section and task repeated on every row, so that a
//! spreadsheet can filter and sort it and the importer can rebuild the tree from it.
//!
//! The CSV starts with a UTF-8 byte-order mark, so Excel and WPS read the Chinese, and a cell a
//! spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
//! return) is written behind a `'`, which the reader removes again.

use crate::domain::text::{self, NUL_MESSAGE};
use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use utoipa::ToSchema;

/// The header row, in order.
pub const HEADERS: [&str; 7] = [
    "工作板块",
    "工作任务",
    "具体措施",
    "任务来源",
    "牵头单位",
    "参加单位",
    "工作措施及完成情况",
];

/// One measure of the table, every cell as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SummaryRow {
    /// 工作板块: the section heading, e.g. `一、依法全面履行政府职能`.
    #[schema(example = "一、依法全面履行政府职能")]
    pub section: String,
    /// 工作任务: the task heading, e.g. `1．深化行政审批制度改革。`.
    #[schema(example = "1．深化行政审批制度改革。")]
    pub task: String,
    /// 具体措施: the measure with its number, e.g. `（2）下放行政审批权。`.
    #[schema(example = "（2）下放行政审批权。")]
    pub measure: String,
    /// 任务来源: the source documents, separated by 、.
    #[schema(example = "渝委发〔2016〕27号")]
    pub sources: String,
    /// 牵头单位 as written.
    #[schema(example = "市政府办公厅")]
    pub lead_units: String,
    /// 参加单位 as written.
    #[schema(example = "市级有关部门，区县政府按职责分工负责")]
    pub participant_units: String,
    /// 工作措施及完成情况: the answer (of one unit, or consolidated).
    #[schema(example = "我局不涉及")]
    pub completion: String,
}

impl SummaryRow {
    fn cells(&self) -> [&str; 7] {
        [
            &self.section,
            &self.task,
            &self.measure,
            &self.sources,
            &self.lead_units,
            &self.participant_units,
            &self.completion,
        ]
    }
}

/// One unit's answer to a measure, in the consolidated view (牵头单位汇总).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnitAnswer {
    /// The unit that answered.
    pub unit_id: crate::domain::ids::UnitId,
    /// Its name.
    #[schema(example = "重庆市知识产权局")]
    pub unit: String,
    /// The period the answer is for (`2019`, `2019-Q4`, `2019-11`).
    #[schema(example = "2019")]
    pub period: String,
    /// The status it reported.
    pub status: crate::domain::report::ReportStatus,
    /// 工作措施及完成情况 as it answered (what it last sent, for anyone but the unit itself).
    #[schema(example = "我局不涉及")]
    pub text: String,
    /// The names of its evidence files (佐证材料), as the reader sees the answer.
    #[schema(example = json!(["培训签到表.pdf"]))]
    pub files: Vec<String>,
}

/// A row of the summary with, in the consolidated view, the answers side by side: the lead
/// units' (the measure's consolidated report) and beside them the participating units'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SummaryLine {
    /// The row's cells.
    #[serde(flatten)]
    pub row: SummaryRow,
    /// Consolidated view only (no `unit` asked for): the lead units' answers, by unit name.
    pub lead_answers: Vec<UnitAnswer>,
    /// Consolidated view only: the participating units' answers, by unit name.
    pub participants: Vec<UnitAnswer>,
    /// One unit's view: the evidence files (佐证材料) of the answer in 工作措施及完成情况, by
    /// name (in the consolidated view each answer lists its own).
    #[schema(example = json!(["会议纪要.pdf"]))]
    pub files: Vec<String>,
}

impl AsRef<SummaryRow> for SummaryRow {
    fn as_ref(&self) -> &SummaryRow {
        self
    }
}

impl AsRef<SummaryRow> for SummaryLine {
    fn as_ref(&self) -> &SummaryRow {
        &self.row
    }
}

/// The byte-order mark every CSV export starts with.
pub const BOM: &str = "\u{FEFF}";

/// What a spreadsheet takes for the start of a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as written to CSV: behind a `'` when a spreadsheet would evaluate it.
fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_START) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// A cell as read from CSV: the `'` that [`neutralise`] put before a formula start removed.
fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

/// Writes the table as CSV (a byte-order mark, then UTF-8, header row, RFC 4180 quoting), every
/// cell a spreadsheet would evaluate neutralised. The HTTP summary and the CLI `export` both
/// write through this.
pub fn write_csv<R: AsRef<SummaryRow>>(rows: &[R]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(BOM.as_bytes().to_vec());
    let _ = w.write_record(HEADERS);
    for r in rows {
        let _ = w.write_record(
            r.as_ref()
                .cells()
                .map(neutralise)
                .iter()
                .map(|c| c.as_bytes()),
        );
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A 任务来源 cell as the importer reads it: its document numbers (the one rule of
/// [`text::document_numbers`]) joined by 、.
pub fn sources_cell(cell: &str) -> String {
    text::document_numbers(cell).join("、")
}

/// Reads a CSV table; problems name the row and column (`row 3: 具体措施`).
pub fn read_csv(bytes: &[u8]) -> Result<Vec<SummaryRow>, Vec<FieldError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let headers: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_owned()).collect(),
        Err(e) => return Err(vec![FieldError::new("body", format!("not CSV: {e}"))]),
    };
    if headers != HEADERS {
        return Err(vec![FieldError::new(
            "header",
            format!("the header row must be {}", HEADERS.join(",")),
        )]);
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                errors.push(FieldError::new(
                    format!("row {line}"),
                    format!("not CSV: {e}"),
                ));
                continue;
            }
        };
        if rec.len() != HEADERS.len() {
            errors.push(FieldError::new(
                format!("row {line}"),
                format!("has {} cells, expected 7", rec.len()),
            ));
            continue;
        }
        let cell = |j: usize| restore(rec.get(j).unwrap_or("")).trim().to_owned();
        for (j, name) in HEADERS.iter().enumerate() {
            if !text::storable(rec.get(j).unwrap_or("")) {
                errors.push(FieldError::new(format!("row {line}: {name}"), NUL_MESSAGE));
            }
        }
        let row = SummaryRow {
            section: cell(0),
            task: cell(1),
            measure: cell(2),
            sources: sources_cell(&cell(3)),
            lead_units: cell(4),
            participant_units: cell(5),
            completion: cell(6),
        };
        for (j, name) in HEADERS.iter().enumerate().take(5) {
            if row.cells()[j].is_empty() && j != 3 {
                errors.push(FieldError::new(
                    format!("row {line}: {name}"),
                    "must not be empty",
                ));
            }
        }
        rows.push(row);
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("body", "the table has no rows"));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Splits a 任务来源 cell into document numbers (文号): `国办发〔2019〕9号、渝府办发〔2019〕59号`,
/// each read by the one rule of [`text::document_numbers`].
pub fn split_sources(cell: &str) -> Vec<String> {
    text::document_numbers(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> SummaryRow {
        SummaryRow {
            section: "一、依法全面履行政府职能".into(),
            task: "1．深化行政审批制度改革。".into(),
            measure: "（2）下放行政审批权。".into(),
            sources: "渝委发〔2016〕27号".into(),
            lead_units: "市政府办公厅".into(),
            participant_units: "市级有关部门，区县政府按职责分工负责".into(),
            completion: "我局不涉及, \"quoted\"\nsecond line".into(),
        }
    }

    #[test]
    fn a_table_round_trips_through_csv() {
        let text = write_csv(&[row(), row()]);
        assert!(text.starts_with("\u{FEFF}工作板块,工作任务"));
        assert_eq!(read_csv(text.as_bytes()).unwrap(), vec![row(), row()]);
    }

    #[test]
    fn a_wrong_header_or_short_row_is_named() {
        let e = read_csv("a,b\n1,2\n".as_bytes()).unwrap_err();
        assert_eq!(e[0].field, "header");
        let text = format!("{}\n一、x,1．y\n", HEADERS.join(","));
        let e = read_csv(text.as_bytes()).unwrap_err();
        assert_eq!(e[0].field, "row 2");
    }

    #[test]
    fn sources_split_on_the_ideographic_comma() {
        assert_eq!(
            split_sources("国办发〔2019〕9号、渝府办发〔2019〕59号"),
            vec!["国办发〔2019〕9号", "渝府办发〔2019〕59号"]
        );
        assert_eq!(
            split_sources("渝委发\n〔2016〕27号"),
            vec!["渝委发〔2016〕27号"]
        );
    }

    #[test]
    fn a_cell_a_spreadsheet_would_evaluate_is_written_behind_a_quote_and_read_back_as_typed() {
        let mut r = row();
        r.measure = "（3）=HYPERLINK(\"http://x\",\"点击\")".into();
        r.lead_units = "@SUM(1+1)".into();
        r.participant_units = "+1".into();
        r.completion = "-2+3".into();
        r.task = "'普通引号开头".into();
        let text = write_csv(std::slice::from_ref(&r));
        let data = text.lines().nth(1).unwrap();
        for cell in data.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(!cell.starts_with(FORMULA_START), "{cell} in {data}");
        }
        assert!(data.contains(",'@SUM(1+1),'+1,'-2+3"), "{data}");
        assert_eq!(read_csv(text.as_bytes()).unwrap(), vec![r]);
    }

    #[test]
    fn nul_in_a_cell_is_named_by_row_and_column() {
        let text = format!(
            "{}\n一、x,1．y,（1）z,,市司法局,,完成\0了\n",
            HEADERS.join(",")
        );
        let e = read_csv(text.as_bytes()).unwrap_err();
        assert_eq!(e[0].field, "row 2: 工作措施及完成情况");
        assert_eq!(e[0].message, NUL_MESSAGE);
    }

    #[test]
    fn sources_are_read_by_the_document_number_rule() {
        let text = format!(
            "{}\n一、x,1．y,（1）z,\"渝委发\n[2016]27号，国令第713号\",市司法局,,\n",
            HEADERS.join(",")
        );
        let rows = read_csv(text.as_bytes()).unwrap();
        assert_eq!(rows[0].sources, "渝委发〔2016〕27号、国令第713号");
    }
}
