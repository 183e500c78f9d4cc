//! A unit's annual report draft as DOCX, shaped like the narrative units send the office (the
//! seed's 重庆市知识产权局关于推进法治政府建设情况的报告): the title and addressee, an introduction
//! naming the plan, 一、工作开展情况 (the figures, then every completed measure under its plan
//! section), 二、存在的问题及原因, 三、整改措施和建议, 特此报告, the attachment line, the unit and the
//! date, all on portrait A4; then, on landscape A4, the attachment: the summary table with the
//! unit's answers as a Word table (sections as shaded rows across the table, each task merged
//! down the first column over its measures, as in the XLSX export).

use crate::domain::table::SummaryRow;
use chrono::{Datelike, NaiveDate};
use docx_rs::{
    AlignmentType, Docx, PageMargin, PageOrientationType, PageSize, Paragraph, Run, RunFonts,
    Section, Shading, SpecialIndentType, Table, TableCell, TableLayoutType, TableRow, VMergeType,
    WidthType,
};

/// The unit's figures under the plan (its assignments by derived state).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Assignments.
    pub assigned: i64,
    /// Assignments with a sent report.
    pub reported: i64,
    /// Completed.
    pub completed: i64,
    /// Not applicable (不涉及).
    pub not_applicable: i64,
    /// In progress.
    pub in_progress: i64,
    /// Overdue.
    pub overdue: i64,
}

/// A completed measure as the report tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// The plan section it belongs to, without its number (`依法全面履行政府职能`).
    pub section: String,
    /// The measure with its number (`（11）及时动态调整行政权力清单和行政责任清单。`).
    pub measure: String,
    /// What the unit reported.
    pub narrative: String,
    /// The names of the evidence files (佐证材料) of that report.
    pub files: Vec<String>,
}

/// Everything the report says.
#[derive(Debug, Clone)]
pub struct AnnualReportInput {
    /// The unit, e.g. 重庆市知识产权局.
    pub unit_name: String,
    /// The plan, e.g. 2019年法治政府建设任务.
    pub plan_title: String,
    /// The report's date.
    pub date: NaiveDate,
    /// The figures.
    pub figures: Figures,
    /// The completed measures in plan order.
    pub done: Vec<Done>,
    /// The non-empty 存在的问题 of the unit's reports.
    pub problems: Vec<String>,
    /// The non-empty 下一步打算 of the unit's reports.
    pub next_steps: Vec<String>,
    /// The attachment table: every measure with the unit's answer.
    pub rows: Vec<SummaryRow>,
}

/// Body text: 仿宋, 三号 (16 pt).
fn run(text: &str) -> Run {
    Run::new()
        .add_text(text)
        .fonts(RunFonts::new().east_asia("仿宋").ascii("FangSong"))
        .size(32)
}

/// A body paragraph, first line indented by two characters.
fn para(text: &str) -> Paragraph {
    Paragraph::new()
        .indent(None, Some(SpecialIndentType::FirstLine(640)), None, None)
        .add_run(run(text))
}

/// A paragraph without indent (addressee, blank lines).
fn plain(text: &str) -> Paragraph {
    Paragraph::new().add_run(run(text))
}

/// A first-level heading (一、…): 黑体.
fn heading(text: &str) -> Paragraph {
    Paragraph::new()
        .indent(None, Some(SpecialIndentType::FirstLine(640)), None, None)
        .add_run(
            Run::new()
                .add_text(text)
                .fonts(RunFonts::new().east_asia("黑体").ascii("SimHei"))
                .size(32),
        )
}

/// A second-level heading (（一）…): 楷体, bold.
fn subheading(text: &str) -> Paragraph {
    Paragraph::new()
        .indent(None, Some(SpecialIndentType::FirstLine(640)), None, None)
        .add_run(
            Run::new()
                .add_text(text)
                .bold()
                .fonts(RunFonts::new().east_asia("楷体").ascii("KaiTi"))
                .size(32),
        )
}

fn right(text: &str) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Right)
        .add_run(run(text))
}

/// 一 … 九十九, for the （一） numbering.
fn chinese_number(n: usize) -> String {
    const DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => DIGITS[n].to_owned(),
        10..=19 => format!("十{}", if n == 10 { "" } else { DIGITS[n % 10] }),
        20..=99 => format!(
            "{}十{}",
            DIGITS[n / 10],
            if n % 10 == 0 { "" } else { DIGITS[n % 10] }
        ),
        _ => n.to_string(),
    }
}

/// The table's cell: 宋体 10 pt.
fn table_cell(text: &str, bold: bool, width: usize) -> TableCell {
    let mut r = Run::new()
        .add_text(text)
        .fonts(RunFonts::new().east_asia("宋体").ascii("SimSun"))
        .size(20);
    if bold {
        r = r.bold();
    }
    TableCell::new()
        .add_paragraph(Paragraph::new().add_run(r))
        .width(width, WidthType::Dxa)
}

/// The attachment's columns and their widths (twentieths of a point; landscape A4 with 2 cm
/// margins leaves 14,570).
const COLUMNS: [(&str, usize); 6] = [
    ("工作任务", 2000),
    ("具体措施", 3600),
    ("任务来源", 1700),
    ("牵头单位", 1800),
    ("参加单位", 2000),
    ("工作措施及完成情况", 3400),
];

fn attachment_table(rows: &[SummaryRow]) -> Table {
    let widths: Vec<usize> = COLUMNS.iter().map(|c| c.1).collect();
    let total: usize = widths.iter().sum();
    let mut out = vec![TableRow::new(
        COLUMNS
            .iter()
            .map(|(h, w)| table_cell(h, true, *w).shading(Shading::new().fill("D9E1F2")))
            .collect(),
    )
    .cant_split()];
    let (mut section, mut task) = ("", "");
    for row in rows {
        if row.section != section {
            section = &row.section;
            task = "";
            out.push(
                TableRow::new(vec![table_cell(section, true, total)
                    .grid_span(6)
                    .shading(Shading::new().fill("EDEDED"))])
                .cant_split(),
            );
        }
        let first = if row.task != task {
            task = &row.task;
            table_cell(task, true, COLUMNS[0].1).vertical_merge(VMergeType::Restart)
        } else {
            table_cell("", false, COLUMNS[0].1).vertical_merge(VMergeType::Continue)
        };
        let rest = [
            &row.measure,
            &row.sources,
            &row.lead_units,
            &row.participant_units,
            &row.completion,
        ];
        let mut cells = vec![first];
        cells.extend(
            rest.iter()
                .zip(&COLUMNS[1..])
                .map(|(t, (_, w))| table_cell(t, false, *w)),
        );
        out.push(TableRow::new(cells));
    }
    // Fixed layout: Word and LibreOffice keep these widths instead of fitting the columns to
    // their content (which squeezes the answers column when most answers are short).
    Table::new(out)
        .set_grid(widths)
        .width(total, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
}

/// Builds the document (DOCX bytes).
pub fn annual_report(input: &AnnualReportInput) -> Result<Vec<u8>, String> {
    let f = &input.figures;
    let mut body = Section::new()
        .page_size(PageSize::new().size(11906, 16838))
        .page_margin(
            PageMargin::new()
                .top(2098)
                .bottom(1984)
                .left(1587)
                .right(1474)
                .header(851)
                .footer(992),
        )
        .add_paragraph(
            Paragraph::new().align(AlignmentType::Center).add_run(
                Run::new()
                    .add_text(format!(
                        "{}关于推进法治政府建设情况的报告",
                        input.unit_name
                    ))
                    .fonts(RunFonts::new().east_asia("方正小标宋简体").ascii("SimSun"))
                    .bold()
                    .size(44),
            ),
        )
        .add_paragraph(plain(""))
        .add_paragraph(plain("市委依法治市办："))
        .add_paragraph(para(&format!(
            "根据《{}》的部署，{}认真贯彻落实，对照任务分工逐项推进，现将有关情况报告如下。",
            input.plan_title, input.unit_name
        )))
        .add_paragraph(heading("一、工作开展情况"))
        .add_paragraph(para(&format!(
            "本年度我单位承担任务{}项，已报送完成情况{}项，其中已完成{}项、不涉及{}项、正在推进{}项，逾期未完成{}项。",
            f.assigned, f.reported, f.completed, f.not_applicable, f.in_progress, f.overdue
        )));
    let mut section = "";
    let mut n = 0;
    for d in &input.done {
        if d.section != section {
            section = &d.section;
            n += 1;
            body = body.add_paragraph(subheading(&format!("（{}）{}", chinese_number(n), section)));
        }
        // The measure in bold, then what the unit did.
        body = body.add_paragraph(
            Paragraph::new()
                .indent(None, Some(SpecialIndentType::FirstLine(640)), None, None)
                .add_run(run(&d.measure).bold())
                .add_run(run(&d.narrative))
                .add_run(run(&if d.files.is_empty() {
                    String::new()
                } else {
                    format!("（佐证材料：{}）", d.files.join("、"))
                })),
        );
    }
    body = body.add_paragraph(heading("二、存在的问题及原因"));
    if input.problems.is_empty() {
        body = body.add_paragraph(para("（报送的完成情况中未填报存在的问题。）"));
    }
    for (i, p) in input.problems.iter().enumerate() {
        body = body.add_paragraph(para(&format!("（{}）{}", chinese_number(i + 1), p)));
    }
    body = body.add_paragraph(heading("三、整改措施和建议"));
    if input.next_steps.is_empty() {
        body = body.add_paragraph(para("（报送的完成情况中未填报下一步打算。）"));
    }
    for (i, s) in input.next_steps.iter().enumerate() {
        body = body.add_paragraph(para(&format!("（{}）{}", chinese_number(i + 1), s)));
    }
    body = body
        .add_paragraph(para("特此报告。"))
        .add_paragraph(plain(""))
        .add_paragraph(para(&format!("附件：{}完成情况汇总", input.plan_title)))
        .add_paragraph(plain(""))
        .add_paragraph(right(&input.unit_name))
        .add_paragraph(right(&format!(
            "{}年{}月{}日",
            input.date.year(),
            input.date.month(),
            input.date.day()
        )));
    let doc = Docx::new()
        .add_section(body)
        .add_paragraph(
            Paragraph::new().add_run(
                Run::new()
                    .add_text("附件")
                    .fonts(RunFonts::new().east_asia("黑体").ascii("SimHei"))
                    .size(32),
            ),
        )
        .add_paragraph(
            Paragraph::new().align(AlignmentType::Center).add_run(
                Run::new()
                    .add_text(format!("{}完成情况汇总", input.plan_title))
                    .fonts(RunFonts::new().east_asia("方正小标宋简体").ascii("SimSun"))
                    .bold()
                    .size(36),
            ),
        )
        .add_table(attachment_table(&input.rows))
        .page_size(16838, 11906)
        .page_orient(PageOrientationType::Landscape)
        .page_margin(
            PageMargin::new()
                .top(1134)
                .bottom(1134)
                .left(1134)
                .right(1134)
                .header(567)
                .footer(567),
        );
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AnnualReportInput {
        AnnualReportInput {
            unit_name: "重庆市知识产权局".into(),
            plan_title: "2019年法治政府建设任务".into(),
            date: NaiveDate::from_ymd_opt(2019, 11, 26).unwrap(),
            figures: Figures {
                assigned: 133,
                reported: 132,
                completed: 52,
                not_applicable: 80,
                in_progress: 0,
                overdue: 1,
            },
            done: vec![Done {
                files: vec!["培训签到表.pdf".into()],
                section: "依法全面履行政府职能".into(),
                measure: "（11）及时动态调整行政权力清单和行政责任清单。".into(),
                narrative: "保留2项行政权力。".into(),
            }],
            problems: vec!["人才队伍建设仍需加强。".into()],
            next_steps: vec![],
            rows: vec![SummaryRow {
                section: "一、依法全面履行政府职能".into(),
                task: "1．深化行政审批制度改革。".into(),
                measure: "（2）下放行政审批权。".into(),
                sources: "渝委发〔2016〕27号".into(),
                lead_units: "市政府办公厅".into(),
                participant_units: "市级有关部门".into(),
                completion: "我局不涉及".into(),
            }],
        }
    }

    #[test]
    fn the_report_is_a_word_document_with_its_sections() {
        let bytes = annual_report(&input()).unwrap();
        assert!(bytes.starts_with(b"PK"));
        let text = docx_rs::read_docx(&bytes).unwrap().json();
        for part in [
            "重庆市知识产权局关于推进法治政府建设情况的报告",
            "已完成52项",
            "（一）依法全面履行政府职能",
            "保留2项行政权力。",
            "（一）人才队伍建设仍需加强。",
            "未填报下一步打算",
            "我局不涉及",
        ] {
            assert!(text.contains(part), "the report lacks {part}");
        }
    }

    #[test]
    fn headings_are_numbered_in_chinese() {
        let got: Vec<String> = [1, 9, 10, 11, 20, 23].map(chinese_number).to_vec();
        assert_eq!(got, ["一", "九", "十", "十一", "二十", "二十三"]);
    }
}
