//! The summary table as an XLSX workbook, in the layout the office uses: a title row, the six
//! columns of the seed (工作任务, 具体措施, 任务来源, 牵头单位, 参加单位, 工作措施及完成情况) under a
//! frozen header repeated on every printed page, each section as a merged, shaded row across
//! the table, each task in the first column merged down over its measures (as in the Word
//! table of the seed), wrapped text, A4 landscape. [`read_summary`] reads back what
//! [`write_summary`] writes.

use crate::domain::plan::{split_heading, ItemLevel};
use crate::domain::table::{sources_cell, SummaryLine, SummaryRow, UnitAnswer};
use crate::domain::text::{self, NUL_MESSAGE};
use crate::error::FieldError;
use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, XlsxError};

const COLUMNS: [(&str, f64); 6] = [
    ("工作任务", 22.0),
    ("具体措施", 48.0),
    ("任务来源", 16.0),
    ("牵头单位", 20.0),
    ("参加单位", 24.0),
    ("工作措施及完成情况", 48.0),
];

/// How many lines `text` wraps to in a column `width` characters wide (a Chinese character takes
/// two), so rows get a height LibreOffice and Excel both honour.
fn wrapped_lines(text: &str, width: f64) -> usize {
    let per_line = (width - 1.0).max(4.0);
    text.split('\n')
        .map(|line| {
            let units: f64 = line
                .chars()
                .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
                .sum();
            ((units / per_line).ceil() as usize).max(1)
        })
        .sum()
}

/// The most characters Excel keeps in a cell.
const CELL_LIMIT: usize = 32_767;
/// What ends a cell cut at [`CELL_LIMIT`] (the CSV export has the whole text).
const CUT: &str = "……（超出 Excel 单元格字数上限，全文见 CSV 导出）";
/// Excel's tallest row, in points.
const MAX_ROW_HEIGHT: f64 = 409.0;

/// The text as a cell can hold it: a consolidated answer column (every unit's answer to a
/// measure) can pass Excel's limit, and is then cut with a note rather than failing the export.
fn fit(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= CELL_LIMIT {
        return text.into();
    }
    let keep = CELL_LIMIT - CUT.chars().count();
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(CUT);
    out.into()
}

fn cell_format() -> Format {
    Format::new()
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Top)
        .set_font_name("宋体")
        .set_font_size(10.5)
}

/// Writes the table; `title` heads the sheet (e.g. `2019年法治政府建设任务完成情况汇总`).
pub fn write_summary<R: AsRef<SummaryRow>>(title: &str, rows: &[R]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    summary_sheet(&mut wb, title, rows)?;
    wb.save_to_buffer()
}

/// Writes the consolidated view: the table as [`write_summary`] does, then a second sheet
/// (牵头单位汇总) with each measure's answers side by side, the lead units' first, one row per
/// answer with its unit, period, role and the status it reported. [`read_summary`] reads the first sheet only.
pub fn write_consolidated(title: &str, lines: &[SummaryLine]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    summary_sheet(&mut wb, title, lines)?;
    answers_sheet(&mut wb, title, lines)?;
    wb.save_to_buffer()
}

/// Writes one unit's view: the table as [`write_summary`] does, then, when its answers have
/// evidence files, a second sheet (佐证材料) naming them per measure.
pub fn write_unit_summary(title: &str, lines: &[SummaryLine]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    summary_sheet(&mut wb, title, lines)?;
    if lines.iter().any(|l| !l.files.is_empty()) {
        let ws = wb.add_worksheet();
        ws.set_name("佐证材料")?;
        let cell = cell_format();
        let head = cell_format().set_bold().set_align(FormatAlign::Center);
        for (c, (name, width)) in [("具体措施", 50.0), ("佐证材料", 50.0)].iter().enumerate()
        {
            ws.write_string_with_format(0, c as u16, *name, &head)?;
            ws.set_column_width(c as u16, *width)?;
        }
        for (r, line) in (1..).zip(lines.iter().filter(|l| !l.files.is_empty())) {
            ws.write_string_with_format(r, 0, fit(&line.row.measure), &cell)?;
            ws.write_string_with_format(r, 1, fit(&line.files.join("\n")), &cell)?;
        }
    }
    wb.save_to_buffer()
}

const ANSWER_COLUMNS: [(&str, f64); 7] = [
    ("具体措施", 40.0),
    ("单位", 22.0),
    ("期别", 10.0),
    ("角色", 10.0),
    ("状态", 10.0),
    ("工作措施及完成情况", 60.0),
    ("佐证材料", 30.0),
];

fn answers_sheet(wb: &mut Workbook, title: &str, lines: &[SummaryLine]) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name("牵头单位汇总")?;
    let cell = cell_format();
    let head = cell_format()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_background_color(Color::RGB(0xD9E1F2));
    let title_fmt = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_font_name("黑体")
        .set_align(FormatAlign::Center);
    ws.merge_range(
        0,
        0,
        0,
        6,
        &format!("{title}（牵头单位与参加单位）"),
        &title_fmt,
    )?;
    for (c, (name, width)) in ANSWER_COLUMNS.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, *name, &head)?;
        ws.set_column_width(c as u16, *width)?;
    }
    ws.set_freeze_panes(2, 0)?;
    ws.set_repeat_rows(1, 1)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    let mut r: u32 = 2;
    for line in lines {
        let answers: Vec<(&str, &UnitAnswer)> = line
            .lead_answers
            .iter()
            .map(|a| ("牵头单位", a))
            .chain(line.participants.iter().map(|a| ("参加单位", a)))
            .collect();
        if answers.is_empty() {
            continue;
        }
        let n = answers.len() as u32;
        if n > 1 {
            ws.merge_range(r, 0, r + n - 1, 0, &fit(&line.row.measure), &cell)?;
        } else {
            ws.write_string_with_format(r, 0, fit(&line.row.measure), &cell)?;
        }
        for (role, a) in answers {
            let files = a.files.join("\n");
            let cells = [
                a.unit.as_str(),
                a.period.as_str(),
                role,
                a.status.label(),
                a.text.as_str(),
                files.as_str(),
            ];
            let mut lines_needed = 1;
            for (c, text) in cells.iter().enumerate() {
                ws.write_string_with_format(r, c as u16 + 1, fit(text), &cell)?;
                lines_needed = lines_needed.max(wrapped_lines(text, ANSWER_COLUMNS[c + 1].1));
            }
            ws.set_row_height(r, (14.5 * lines_needed as f64 + 3.0).min(MAX_ROW_HEIGHT))?;
            r += 1;
        }
    }
    Ok(())
}

fn summary_sheet<R: AsRef<SummaryRow>>(
    wb: &mut Workbook,
    title: &str,
    rows: &[R],
) -> Result<(), XlsxError> {
    let rows: Vec<&SummaryRow> = rows.iter().map(AsRef::as_ref).collect();
    let ws = wb.add_worksheet();
    ws.set_name("完成情况汇总")?;
    let title_fmt = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_font_name("黑体")
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let head_fmt = cell_format()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_background_color(Color::RGB(0xD9E1F2));
    let section_fmt = cell_format()
        .set_bold()
        .set_background_color(Color::RGB(0xEDEDED));
    let task_fmt = cell_format().set_bold();
    let cell = cell_format();
    ws.merge_range(0, 0, 0, 5, title, &title_fmt)?;
    ws.set_row_height(0, 30)?;
    for (c, (name, width)) in COLUMNS.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, *name, &head_fmt)?;
        ws.set_column_width(c as u16, *width)?;
    }
    ws.set_freeze_panes(2, 0)?;
    ws.set_repeat_rows(1, 1)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    let mut r: u32 = 2;
    let mut section = "";
    let mut i = 0;
    while i < rows.len() {
        if rows[i].section != section {
            section = &rows[i].section;
            ws.merge_range(r, 0, r, 5, &fit(section), &section_fmt)?;
            ws.set_row_height(r, 18)?;
            r += 1;
        }
        let task = &rows[i].task;
        let run = rows[i..]
            .iter()
            .take_while(|x| &x.task == task && x.section == section)
            .count();
        if run > 1 {
            ws.merge_range(r, 0, r + run as u32 - 1, 0, &fit(task), &task_fmt)?;
        } else {
            ws.write_string_with_format(r, 0, fit(task), &task_fmt)?;
        }
        for row in &rows[i..i + run] {
            let cells = [
                &row.measure,
                &row.sources,
                &row.lead_units,
                &row.participant_units,
                &row.completion,
            ];
            let mut lines = 1;
            for (c, text) in cells.iter().enumerate() {
                ws.write_string_with_format(r, c as u16 + 1, fit(text), &cell)?;
                lines = lines.max(wrapped_lines(text, COLUMNS[c + 1].1));
            }
            ws.set_row_height(r, (14.5 * lines as f64 + 3.0).min(MAX_ROW_HEIGHT))?;
            r += 1;
        }
        i += run;
    }
    Ok(())
}

fn text(d: Option<&Data>) -> String {
    match d {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.trim().to_owned(),
        Some(other) => other.to_string().trim().to_owned(),
    }
}

/// Reads a workbook written by [`write_summary`] (or laid out the same way, as offices keep it:
/// sections merged across, tasks merged down, 文号 wrapped inside their cells): rows before the
/// header row are skipped; 任务来源 is read by the document-number rule the CSV reader uses;
/// problems name the row and column.
pub fn read_summary(bytes: &[u8]) -> Result<Vec<SummaryRow>, Vec<FieldError>> {
    let not_xlsx = |e: String| {
        vec![FieldError::new(
            "body",
            format!("not an XLSX workbook: {e}"),
        )]
    };
    let mut wb: Xlsx<std::io::Cursor<&[u8]>> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
            .map_err(|e: calamine::XlsxError| not_xlsx(e.to_string()))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| not_xlsx("it has no sheet".into()))?
        .map_err(|e| not_xlsx(e.to_string()))?;
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut header_seen = false;
    let (mut section, mut task) = (String::new(), String::new());
    for (i, row) in range.rows().enumerate() {
        let line = first_row as usize + i + 1;
        let offset = first_col as usize;
        let cell = |c: usize| text(c.checked_sub(offset).and_then(|c| row.get(c)));
        if !header_seen {
            header_seen = (0..6).all(|c| cell(c) == COLUMNS[c].0);
            continue;
        }
        let cells: Vec<String> = (0..6).map(cell).collect();
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        for (c, value) in cells.iter().enumerate() {
            if !text::storable(value) {
                errors.push(FieldError::new(
                    format!("row {line}: {}", COLUMNS[c].0),
                    NUL_MESSAGE,
                ));
            }
        }
        if cells[1..].iter().all(|c| c.is_empty())
            && split_heading(ItemLevel::Section, &cells[0]).is_some()
        {
            section = cells[0].clone();
            task.clear();
            continue;
        }
        let mut problem = |col: &str, message: String| {
            errors.push(FieldError::new(format!("row {line}: {col}"), message));
        };
        // Headings are checked here, where the sheet's row is known (the importer would
        // otherwise count rows as CSV lines).
        let mut heading = |level: ItemLevel, text: &str, col: &str| {
            if text.is_empty() {
                problem(col, "must not be empty".into());
            } else if split_heading(level, text).is_none() {
                problem(
                    col,
                    format!("expected a numbered heading such as {}", level.label("1")),
                );
            }
        };
        if !cells[0].is_empty() {
            task = cells[0].clone();
            heading(ItemLevel::Task, &task, "工作任务");
        }
        heading(ItemLevel::Measure, &cells[1], "具体措施");
        if section.is_empty() {
            problem("工作板块", "must not be empty".into());
        }
        if task.is_empty() {
            problem("工作任务", "must not be empty".into());
        }
        if cells[3].is_empty() {
            problem("牵头单位", "must not be empty".into());
        }
        rows.push(SummaryRow {
            section: section.clone(),
            task: task.clone(),
            measure: cells[1].clone(),
            sources: sources_cell(&cells[2]),
            lead_units: cells[3].clone(),
            participant_units: cells[4].clone(),
            completion: cells[5].clone(),
        });
    }
    if !header_seen {
        errors.push(FieldError::new(
            "header",
            format!("no header row {}", COLUMNS.map(|c| c.0).join(",")),
        ));
    } else if rows.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("body", "the table has no rows"));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(section: &str, task: &str, measure: &str, completion: &str) -> SummaryRow {
        SummaryRow {
            section: section.into(),
            task: task.into(),
            measure: measure.into(),
            sources: "渝委发〔2016〕27号".into(),
            lead_units: "市司法局".into(),
            participant_units: "市级有关部门，区县政府按职责分工负责".into(),
            completion: completion.into(),
        }
    }

    #[test]
    fn a_written_workbook_reads_back_to_the_same_rows() {
        let rows = vec![
            row(
                "一、依法全面履行政府职能",
                "1．深化改革。",
                "（1）下放审批权。",
                "我局不涉及",
            ),
            row(
                "一、依法全面履行政府职能",
                "1．深化改革。",
                "（2）减少许可。",
                "",
            ),
            row(
                "一、依法全面履行政府职能",
                "2．推行清单。",
                "（3）动态调整。",
                "已完成，共2项。",
            ),
            row(
                "二、完善依法行政制度体系",
                "3．完善规章。",
                "（4）健全程序。",
                "多行\n文本",
            ),
        ];
        let bytes = write_summary("2019年完成情况汇总", &rows).unwrap();
        assert!(bytes.starts_with(b"PK"));
        assert_eq!(read_summary(&bytes).unwrap(), rows);
    }

    #[test]
    fn rows_are_as_tall_as_their_longest_cell() {
        assert_eq!(wrapped_lines("我局不涉及", 48.0), 1);
        assert_eq!(wrapped_lines(&"法".repeat(47), 48.0), 2);
        assert_eq!(wrapped_lines("a\nb", 10.0), 2);
    }

    #[test]
    fn a_cell_past_excels_limit_is_cut_with_a_note_instead_of_failing() {
        let long = "法".repeat(40_000);
        let rows = vec![row("一、总体要求", "1．任务。", "（1）措施。", &long)];
        let back = read_summary(&write_summary("汇总", &rows).unwrap()).unwrap();
        assert_eq!(back[0].completion.chars().count(), CELL_LIMIT);
        assert!(back[0].completion.ends_with(CUT));
    }

    #[test]
    fn nul_in_a_cell_is_named_by_its_sheet_row_and_column() {
        let r = row("一、总体要求", "1．任务。", "（1）措施。", "完成\0了");
        let e = read_summary(&write_summary("汇总", &[r]).unwrap()).unwrap_err();
        assert_eq!(e[0].field, "row 4: 工作措施及完成情况");
        assert_eq!(e[0].message, NUL_MESSAGE);
    }

    #[test]
    fn a_document_number_wrapped_in_its_cell_reads_as_one() {
        let mut r = row("一、总体要求", "1．任务。", "（1）措施。", "");
        r.sources = "渝委发\n（2016）27号、国令第\n713号".into();
        let back = read_summary(&write_summary("汇总", &[r]).unwrap()).unwrap();
        assert_eq!(back[0].sources, "渝委发〔2016〕27号、国令第713号");
    }

    #[test]
    fn garbage_is_refused_with_a_named_field() {
        let e = read_summary(b"not a zip").unwrap_err();
        assert_eq!(e[0].field, "body");
    }

    #[test]
    fn an_empty_required_cell_is_named_by_its_sheet_row_as_the_csv_reader_does() {
        let mut r = row("一、总体要求", "1．任务。", "（1）措施。", "");
        r.lead_units.clear();
        let e = read_summary(&write_summary("汇总", &[r]).unwrap()).unwrap_err();
        // Row 1 is the title, row 2 the header, row 3 the section, row 4 the measure.
        assert_eq!(e[0].field, "row 4: 牵头单位");
        let r = row("一、总体要求", "没有编号的任务", "（1）措施。", "");
        let e = read_summary(&write_summary("汇总", &[r]).unwrap()).unwrap_err();
        assert_eq!(e[0].field, "row 4: 工作任务");
        assert!(e[0].message.contains("numbered heading"), "{e:?}");
    }
}
