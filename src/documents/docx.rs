//! A unit's annual report draft as DOCX, shaped like the seed's narrative: the title and
//! addressee, 一、工作开展情况 (what was done, measure by measure, with the figures),
//! 二、存在的问题及原因, 三、整改措施和建议, the closing, and the attachment table of the unit's answers.

use crate::domain::table::SummaryRow;
use chrono::{Datelike, NaiveDate};
use docx_rs::{
    AlignmentType, Docx, PageOrientationType, Paragraph, Run, RunFonts, Table, TableCell, TableRow,
    WidthType,
};

/// The figures of the unit's work under the plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Assignments.
    pub assigned: i64,
    /// With a sent report.
    pub reported: i64,
    /// Reported completed.
    pub completed: i64,
    /// Reported not applicable.
    pub not_applicable: i64,
    /// In progress.
    pub in_progress: i64,
    /// Overdue.
    pub overdue: i64,
}

/// Everything the report says.
#[derive(Debug, Clone)]
pub struct AnnualReport {
    /// The unit, e.g. 重庆市知识产权局.
    pub unit_name: String,
    /// The plan, e.g. 2019年法治政府建设任务.
    pub plan_title: String,
    /// The report's date.
    pub date: NaiveDate,
    /// The figures.
    pub figures: Figures,
    /// The completed measures: (section heading, measure heading, what was done).
    pub done: Vec<(String, String, String)>,
    /// Problems the unit reported.
    pub problems: Vec<String>,
    /// Next steps the unit reported.
    pub next_steps: Vec<String>,
    /// The attachment table: every measure with the unit's answer.
    pub rows: Vec<SummaryRow>,
}

fn run(text: &str) -> Run {
    Run::new()
        .add_text(text)
        .fonts(RunFonts::new().east_asia("仿宋").ascii("FangSong"))
        .size(32)
}

fn para(text: &str) -> Paragraph {
    Paragraph::new().add_run(run(text))
}

fn heading(text: &str) -> Paragraph {
    Paragraph::new().add_run(
        Run::new()
            .add_text(text)
            .bold()
            .fonts(RunFonts::new().east_asia("黑体"))
            .size(32),
    )
}

fn table_cell(text: &str, bold: bool) -> TableCell {
    let mut r = Run::new()
        .add_text(text)
        .fonts(RunFonts::new().east_asia("宋体"))
        .size(20);
    if bold {
        r = r.bold();
    }
    TableCell::new().add_paragraph(Paragraph::new().add_run(r))
}

fn chinese_number(n: usize) -> &'static str {
    ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
        .get(n)
        .copied()
        .unwrap_or("十")
}

/// Builds the document.
pub fn annual_report(r: &AnnualReport) -> Result<Vec<u8>, String> {
    let f = &r.figures;
    let mut doc = Docx::new()
        .add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(Run::new().add_text(format!("{}关于推进法治政府建设情况的报告", r.unit_name)).bold().fonts(RunFonts::new().east_asia("方正小标宋简体")).size(44)),
        )
        .add_paragraph(para(""))
        .add_paragraph(para("市委依法治市办："))
        .add_paragraph(para(&format!(
            "根据《{}》的部署，{}认真贯彻落实，对照任务分工逐项推进，现将有关情况报告如下。",
            r.plan_title, r.unit_name
        )))
        .add_paragraph(heading("一、工作开展情况"))
        .add_paragraph(para(&format!(
            "本年度我单位承担任务{}项，已报送完成情况{}项，其中已完成{}项、不涉及{}项、正在推进{}项，逾期未报{}项。",
            f.assigned, f.reported, f.completed, f.not_applicable, f.in_progress, f.overdue
        )));
    let mut section = String::new();
    let mut n = 0;
    for (sec, measure, text) in &r.done {
        if *sec != section {
            section = sec.clone();
            doc = doc.add_paragraph(
                Paragraph::new().add_run(run(&format!("（{}）{}", chinese_number(n), sec)).bold()),
            );
            n += 1;
        }
        doc = doc.add_paragraph(para(&format!("{measure}：{text}")));
    }
    doc = doc.add_paragraph(heading("二、存在的问题及原因"));
    if r.problems.is_empty() {
        doc = doc.add_paragraph(para("（本年度报送的完成情况中未填报问题。）"));
    }
    for (i, p) in r.problems.iter().enumerate() {
        doc = doc.add_paragraph(para(&format!("（{}）{}", chinese_number(i), p)));
    }
    doc = doc.add_paragraph(heading("三、整改措施和建议"));
    if r.next_steps.is_empty() {
        doc = doc.add_paragraph(para("（本年度报送的完成情况中未填报下一步打算。）"));
    }
    for (i, s) in r.next_steps.iter().enumerate() {
        doc = doc.add_paragraph(para(&format!("（{}）{}", chinese_number(i), s)));
    }
    doc = doc
        .add_paragraph(para("特此报告。"))
        .add_paragraph(para(""))
        .add_paragraph(para(&format!("附件：{}完成情况汇总", r.plan_title)))
        .add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Right)
                .add_run(run(&r.unit_name)),
        )
        .add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Right)
                .add_run(run(&format!(
                    "{}年{}月{}日",
                    r.date.year(),
                    r.date.month(),
                    r.date.day()
                ))),
        )
        .add_paragraph(Paragraph::new().add_run(Run::new().add_break(docx_rs::BreakType::Page)))
        .add_paragraph(heading("附件"))
        .add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(run(&format!("{}完成情况汇总", r.plan_title)).bold()),
        );
    let widths = [1800usize, 3600, 1400, 1700, 1900, 3600];
    let mut rows = vec![TableRow::new(
        [
            "工作任务",
            "具体措施",
            "任务来源",
            "牵头单位",
            "参加单位",
            "工作措施及完成情况",
        ]
        .iter()
        .zip(widths)
        .map(|(h, w)| table_cell(h, true).width(w, WidthType::Dxa))
        .collect(),
    )];
    let mut section = String::new();
    let mut task = String::new();
    for row in &r.rows {
        if row.section != section {
            section = row.section.clone();
            rows.push(TableRow::new(vec![table_cell(&section, true).grid_span(6)]));
        }
        let task_cell = if row.task != task {
            task = row.task.clone();
            task.as_str()
        } else {
            ""
        };
        let cells = [
            task_cell,
            &row.measure,
            &row.sources,
            &row.lead_units,
            &row.participant_units,
            &row.completion,
        ];
        rows.push(TableRow::new(
            cells
                .iter()
                .zip(widths)
                .map(|(t, w)| table_cell(t, false).width(w, WidthType::Dxa))
                .collect(),
        ));
    }
    doc = doc
        .add_table(Table::new(rows).set_grid(widths.to_vec()))
        .page_size(16838, 11906)
        .page_orient(PageOrientationType::Landscape);
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_a_word_document_with_its_sections() {
        let r = AnnualReport {
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
            done: vec![(
                "依法全面履行政府职能".into(),
                "（11）及时动态调整行政权力清单".into(),
                "保留2项行政权力。".into(),
            )],
            problems: vec!["人才队伍建设仍需加强。".into()],
            next_steps: vec![],
            rows: vec![],
        };
        let bytes = annual_report(&r).unwrap();
        assert!(bytes.starts_with(b"PK"));
    }
}
