//! The summary table (2019年法治政府建设任务完成情况汇总) as CSV: its columns, reading and writing.
//!
//! One row per measure, in plan order, with the section and task repeated on every row, so that a
//! spreadsheet can filter and sort it and the importer can rebuild the tree from it.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
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

/// Writes the table as CSV (UTF-8, header row, RFC 4180 quoting).
pub fn write_csv(rows: &[SummaryRow]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(HEADERS);
    for r in rows {
        let _ = w.write_record(r.cells());
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
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
        let cell = |j: usize| rec.get(j).unwrap_or("").trim().to_owned();
        let row = SummaryRow {
            section: cell(0),
            task: cell(1),
            measure: cell(2),
            sources: cell(3),
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

/// Splits a 任务来源 cell into document numbers (文号): `国办发〔2019〕9号、渝府办发〔2019〕59号`.
pub fn split_sources(cell: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in cell.split(['、', '，', ',', '；', ';', '\n']) {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    }
    out
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
        assert!(text.starts_with("工作板块,工作任务"));
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
            vec!["渝委发", "〔2016〕27号"]
        );
    }
}
