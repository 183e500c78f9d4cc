//! The municipality: its units and unit groups, and a plan of the seed's shape (sections →
//! tasks → measures) with each measure's lead units and the participants it reaches through
//! groups. Pure generation from the seeded random stream; ids are given by the caller.

use crate::domain::assignment::AssignmentRole;
use crate::domain::unit::UnitKind;
use chrono::{Datelike, NaiveDate};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

/// A unit.
#[derive(Debug, Clone)]
pub struct Unit {
    pub id: i64,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: UnitKind,
}

/// A unit group with its members.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub alias: Option<String>,
    pub description: String,
    pub members: Vec<i64>,
}

/// The city: the office first, then city departments, district governments and district
/// departments.
#[derive(Debug, Clone)]
pub struct City {
    pub units: Vec<Unit>,
    pub groups: Vec<Group>,
    /// The coordinating office's id.
    pub office: i64,
    /// Ids of the city departments (the lead units).
    pub city_departments: Vec<i64>,
    /// Groups in the order measures draw participants from: city-level groups, then district
    /// governments, then each district's departments.
    city_groups: Vec<usize>,
    district_governments_group: Option<usize>,
    district_groups: Vec<usize>,
    /// Every unit but the office.
    assignable: Vec<i64>,
}

const DISTRICTS: [&str; 38] = [
    "万州区",
    "黔江区",
    "涪陵区",
    "渝中区",
    "大渡口区",
    "江北区",
    "沙坪坝区",
    "九龙坡区",
    "南岸区",
    "北碚区",
    "綦江区",
    "大足区",
    "渝北区",
    "巴南区",
    "长寿区",
    "江津区",
    "合川区",
    "永川区",
    "南川区",
    "璧山区",
    "铜梁区",
    "潼南区",
    "荣昌区",
    "开州区",
    "梁平区",
    "武隆区",
    "城口县",
    "丰都县",
    "垫江县",
    "忠县",
    "云阳县",
    "奉节县",
    "巫山县",
    "巫溪县",
    "石柱县",
    "秀山县",
    "酉阳县",
    "彭水县",
];

const CITY_DEPARTMENTS: [&str; 24] = [
    "发展改革委",
    "教委",
    "科技局",
    "经济信息委",
    "公安局",
    "民政局",
    "司法局",
    "财政局",
    "人力社保局",
    "规划自然资源局",
    "生态环境局",
    "住房城乡建委",
    "城市管理局",
    "交通局",
    "水利局",
    "农业农村委",
    "商务委",
    "文化旅游委",
    "卫生健康委",
    "应急局",
    "审计局",
    "市场监管局",
    "统计局",
    "医保局",
];

const DISTRICT_DEPARTMENTS: [&str; 12] = [
    "司法局",
    "财政局",
    "市场监管局",
    "生态环境局",
    "住房城乡建委",
    "城市管理局",
    "教委",
    "卫生健康委",
    "民政局",
    "交通局",
    "农业农村委",
    "应急局",
];

/// The city's name (bench data is marked as such).
pub const CITY: &str = "基准市";

/// Builds a city of `n` units (at least 3), ids from `first_unit` and `first_group`.
pub fn city(n: usize, first_unit: i64, first_group: i64) -> City {
    let n = n.max(3);
    let city_n = (n * 110 / 1600).max(2);
    let district_n = (n * 38 / 1600).clamp(1, 38);
    let local_n = n.saturating_sub(1 + city_n + district_n);
    let mut units = Vec::with_capacity(n);
    let mut next = first_unit;
    let mut push = |name: String, short: Option<String>, kind: UnitKind| {
        units.push(Unit {
            id: next,
            name,
            short_name: short,
            kind,
        });
        next += 1;
        next - 1
    };
    let office = push(
        format!("{CITY}全面依法治市委员会办公室"),
        Some(format!("{CITY}依法治市办")),
        UnitKind::CoordinatingOffice,
    );
    let city_departments: Vec<i64> = (0..city_n)
        .map(|i| {
            let base = CITY_DEPARTMENTS[i % CITY_DEPARTMENTS.len()];
            let round = i / CITY_DEPARTMENTS.len();
            let name = if round == 0 {
                format!("{CITY}{base}")
            } else {
                format!("{CITY}{base}第{}分局", round + 1)
            };
            push(name, Some(format!("市{base}")), UnitKind::CityDepartment)
        })
        .collect();
    let districts: Vec<i64> = (0..district_n)
        .map(|i| {
            push(
                format!("{CITY}{}人民政府", DISTRICTS[i]),
                Some(format!("{}政府", DISTRICTS[i])),
                UnitKind::DistrictGovernment,
            )
        })
        .collect();
    let mut local_of: Vec<Vec<i64>> = vec![Vec::new(); district_n];
    for i in 0..local_n {
        let d = i % district_n;
        let k = i / district_n;
        let base = DISTRICT_DEPARTMENTS[k % DISTRICT_DEPARTMENTS.len()];
        let name = if k < DISTRICT_DEPARTMENTS.len() {
            format!("{CITY}{}{base}", DISTRICTS[d])
        } else {
            format!(
                "{CITY}{}{base}第{}所",
                DISTRICTS[d],
                k / DISTRICT_DEPARTMENTS.len() + 1
            )
        };
        let id = push(name, None, UnitKind::Other);
        local_of[d].push(id);
    }
    let mut groups = Vec::new();
    let mut gid = first_group;
    let mut group = |name: String, alias: Option<String>, description: &str, members: Vec<i64>| {
        groups.push(Group {
            id: gid,
            name,
            alias,
            description: description.to_owned(),
            members,
        });
        gid += 1;
        groups.len() - 1
    };
    let all_city = group(
        format!("{CITY}市级有关部门"),
        Some(format!("{CITY}市级各部门")),
        "市级各有关部门按职责分工负责",
        city_departments.clone(),
    );
    let enforcement = group(
        format!("{CITY}市级行政执法部门"),
        None,
        "承担行政执法职责的市级部门",
        city_departments.iter().copied().step_by(3).collect(),
    );
    let governments = group(
        format!("{CITY}区县政府"),
        Some(format!("{CITY}各区县政府")),
        "各区县（自治县）人民政府",
        districts.clone(),
    );
    let district_groups: Vec<usize> = local_of
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(d, members)| {
            group(
                format!("{CITY}{}政府部门", DISTRICTS[d]),
                None,
                "区县政府所属部门",
                members.clone(),
            )
        })
        .collect();
    let assignable = units
        .iter()
        .filter(|u| u.id != office)
        .map(|u| u.id)
        .collect();
    City {
        units,
        groups,
        office,
        city_departments,
        city_groups: vec![all_city, enforcement],
        district_governments_group: Some(governments),
        district_groups,
        assignable,
    }
}

/// A plan item (section, task or measure).
#[derive(Debug, Clone)]
pub struct Item {
    pub id: i64,
    pub parent: Option<i64>,
    pub level: &'static str,
    pub code: String,
    pub number: String,
    pub title: String,
    pub position: i32,
    pub lead_text: Option<String>,
    pub participant_text: Option<String>,
    /// Source documents cited (indexes into the plan's documents).
    pub sources: Vec<usize>,
}

/// An assignment as planned.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub id: i64,
    pub measure: i64,
    pub unit: i64,
    pub role: AssignmentRole,
    pub via_group: Option<i64>,
    pub due: NaiveDate,
}

/// A plan's task tree and assignments.
#[derive(Debug, Clone)]
pub struct PlanTree {
    pub items: Vec<Item>,
    pub assignments: Vec<Assignment>,
}

const NUMERALS: [&str; 8] = ["一", "二", "三", "四", "五", "六", "七", "八"];

const SECTIONS: [&str; 8] = [
    "依法全面履行政府职能",
    "完善依法行政制度体系",
    "推进行政决策科学化、民主化、法治化",
    "坚持严格规范公正文明执法",
    "强化对行政权力的制约和监督",
    "依法有效化解社会矛盾纠纷",
    "全面提高政府工作人员法治思维和依法行政能力",
    "加强党对法治政府建设的领导",
];

const TASK_VERBS: [&str; 6] = ["深化", "健全", "推进", "完善", "加强", "规范"];
const TASK_OBJECTS: [&str; 8] = [
    "行政审批制度改革",
    "重大行政决策程序",
    "行政执法责任制",
    "行政复议体制改革",
    "政务公开工作",
    "规范性文件监督管理",
    "公共法律服务体系",
    "法治宣传教育",
];
const MEASURE_TEXTS: [&str; 6] = [
    "制定年度工作方案，明确责任分工和时间节点",
    "开展专项检查，建立问题清单并逐项整改",
    "完善配套制度，推动信息化平台互联互通",
    "组织业务培训，提升执法人员能力水平",
    "建立健全考核评价机制，纳入年度绩效考核",
    "梳理权责清单，实行动态调整和公开公示",
];

/// How many measures a plan of `assignments` assignments over `units` assignable units has:
/// about 250 assignments each (400 for 100,000), at least 8, and few enough that no measure
/// needs more units than the city has.
pub fn measures_for(assignments: usize, assignable: usize) -> usize {
    let m = ((assignments + 125) / 250).clamp(8, 400);
    let need = assignments.div_ceil(assignable.max(1));
    m.max(need).min(assignments.max(1))
}

/// Builds a plan's tree and assignments for `year`. Item ids from `first_item`, assignment ids
/// from `first_assignment`.
pub fn plan_tree(
    rng: &mut StdRng,
    city: &City,
    year: i32,
    assignments: usize,
    documents: usize,
    first_item: i64,
    first_assignment: i64,
) -> PlanTree {
    let m_count = measures_for(assignments, city.assignable.len());
    let s_count = m_count.min(8);
    let t_count = (m_count / 9).clamp(s_count, 44);
    let mut items = Vec::with_capacity(s_count + t_count + m_count);
    let mut id = first_item;
    let mut position = 0;
    let mut measure_no = 0;
    let mut task_no = 0;
    let mut measure_ids = Vec::with_capacity(m_count);
    for s in 0..s_count {
        let sec_id = id;
        id += 1;
        position += 1;
        items.push(Item {
            id: sec_id,
            parent: None,
            level: "section",
            code: format!("{}", s + 1),
            number: NUMERALS[s].to_owned(),
            title: SECTIONS[s].to_owned(),
            position,
            lead_text: None,
            participant_text: None,
            sources: Vec::new(),
        });
        let tasks_here = share(t_count, s_count, s);
        for t in 0..tasks_here {
            let task_id = id;
            id += 1;
            position += 1;
            task_no += 1;
            items.push(Item {
                id: task_id,
                parent: Some(sec_id),
                level: "task",
                code: format!("{}.{}", s + 1, t + 1),
                number: task_no.to_string(),
                title: format!(
                    "{}．{}{}",
                    task_no,
                    TASK_VERBS[task_no % TASK_VERBS.len()],
                    TASK_OBJECTS[task_no % TASK_OBJECTS.len()]
                ),
                position,
                lead_text: None,
                participant_text: None,
                sources: Vec::new(),
            });
            let measures_here = share(m_count, t_count, task_no - 1);
            for m in 0..measures_here {
                position += 1;
                measure_no += 1;
                let text = MEASURE_TEXTS[rng.gen_range(0..MEASURE_TEXTS.len())];
                let mut sources = vec![rng.gen_range(0..documents.max(1))];
                if rng.gen_bool(0.3) {
                    let other = rng.gen_range(0..documents.max(1));
                    if other != sources[0] {
                        sources.push(other);
                    }
                }
                measure_ids.push(id);
                items.push(Item {
                    id,
                    parent: Some(task_id),
                    level: "measure",
                    code: format!("{}.{}.{}", s + 1, t + 1, m + 1),
                    number: measure_no.to_string(),
                    title: format!("（{}）{}，{year}年底前按期报送完成情况。", m + 1, text),
                    position,
                    lead_text: None,
                    participant_text: None,
                    sources,
                });
                id += 1;
            }
        }
    }
    // Assignments: each measure gets its share, leads first, then participants by group.
    let mut out = Vec::with_capacity(assignments);
    let mut next_assignment = first_assignment;
    let name_of = |uid: i64| -> &str {
        city.units
            .iter()
            .find(|u| u.id == uid)
            .map_or("", |u| u.name.as_str())
    };
    let mut measure_item = 0;
    for (k, &mid) in measure_ids.iter().enumerate() {
        let quota = share(assignments, m_count, k);
        let due = if rng.gen_bool(0.7) {
            NaiveDate::from_ymd_opt(year, 12, 31)
        } else {
            let month = rng.gen_range(3..=11);
            NaiveDate::from_ymd_opt(year, month + 1, 1).and_then(|d| d.pred_opt())
        }
        .unwrap_or_default();
        let mut used: Vec<i64> = Vec::with_capacity(quota);
        let mut leads: Vec<i64> = Vec::new();
        let lead_n = rng.gen_range(1..=2).min(quota);
        let mut candidates = city.city_departments.clone();
        candidates.shuffle(rng);
        for &u in candidates.iter().take(lead_n) {
            used.push(u);
            leads.push(u);
            out.push(Assignment {
                id: next_assignment,
                measure: mid,
                unit: u,
                role: AssignmentRole::Lead,
                via_group: None,
                due,
            });
            next_assignment += 1;
        }
        let mut order: Vec<usize> = Vec::new();
        order.push(city.city_groups[usize::from(rng.gen_bool(0.4))]);
        order.extend(city.district_governments_group);
        let mut locals = city.district_groups.clone();
        locals.shuffle(rng);
        order.extend(locals);
        let mut via_names: Vec<&str> = Vec::new();
        'fill: for g in order {
            if used.len() >= quota {
                break;
            }
            let group = &city.groups[g];
            let mut took = false;
            for &u in &group.members {
                if used.len() >= quota {
                    break 'fill;
                }
                if used.contains(&u) {
                    continue;
                }
                used.push(u);
                took = true;
                out.push(Assignment {
                    id: next_assignment,
                    measure: mid,
                    unit: u,
                    role: AssignmentRole::Participant,
                    via_group: Some(group.id),
                    due,
                });
                next_assignment += 1;
            }
            if took {
                via_names.push(group.name.as_str());
            }
        }
        // A city too small for its groups: the rest directly.
        for &u in &city.assignable {
            if used.len() >= quota {
                break;
            }
            if !used.contains(&u) {
                used.push(u);
                out.push(Assignment {
                    id: next_assignment,
                    measure: mid,
                    unit: u,
                    role: AssignmentRole::Participant,
                    via_group: None,
                    due,
                });
                next_assignment += 1;
            }
        }
        while items[measure_item].id != mid {
            measure_item += 1;
        }
        let lead_names: Vec<&str> = leads.iter().map(|u| name_of(*u)).collect();
        items[measure_item].lead_text = Some(lead_names.join("、"));
        items[measure_item].participant_text = if via_names.is_empty() {
            None
        } else {
            Some(format!("{}按职责分工负责", via_names.join("，")))
        };
    }
    PlanTree {
        items,
        assignments: out,
    }
}

/// The `i`-th of `parts` near-equal shares of `total`.
fn share(total: usize, parts: usize, i: usize) -> usize {
    total / parts + usize::from(i < total % parts)
}

/// The last day of a month.
pub fn month_end(year: i32, month: u32) -> NaiveDate {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or_default()
}

/// The months of `year` that have ended by `today`.
pub fn months_elapsed(year: i32, today: NaiveDate) -> u32 {
    if today.year() > year {
        12
    } else if today.year() < year {
        0
    } else {
        today.month() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_city_has_the_office_departments_governments_and_groups() {
        let c = city(1600, 1, 1);
        assert_eq!(c.units.len(), 1600);
        assert_eq!(c.city_departments.len(), 110);
        let mut names: Vec<&str> = c.units.iter().map(|u| u.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 1600, "unit names are unique");
        assert_eq!(c.groups.len(), 3 + 38);
    }

    #[test]
    fn a_plan_has_the_seed_shape_and_exactly_the_assignments_asked_for() {
        let c = city(1600, 1, 1);
        let mut rng = StdRng::seed_from_u64(7);
        let p = plan_tree(&mut rng, &c, 2026, 100_000, 6, 1, 1);
        let count = |l: &str| p.items.iter().filter(|i| i.level == l).count();
        assert_eq!(
            (count("section"), count("task"), count("measure")),
            (8, 44, 400)
        );
        assert_eq!(p.assignments.len(), 100_000);
        let mut pairs: Vec<(i64, i64)> =
            p.assignments.iter().map(|a| (a.measure, a.unit)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        assert_eq!(pairs.len(), 100_000, "a unit is assigned a measure once");
        let small = city(20, 1, 1);
        let p = plan_tree(&mut rng, &small, 2026, 200, 6, 1, 1);
        assert_eq!(p.assignments.len(), 200);
    }
}
