//! 工作台 (`/admin`), the staff console's first page: the charts of the member's role, each a
//! stacked bar chart drawn by plotters into SVG, with its figures in a table beneath (what a
//! screen reader reads, and what the chart was drawn from).

use crate::i18n::td_string;
use certdesk_shared::apply::yuan;
use certdesk_shared::dashboard::{Category, Chart, ChartKind, Dashboard, Deadline, RevenueWay, SeriesKey};
use certdesk_shared::endpoint;
use leptos::prelude::*;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::components::fields::Text;
use crate::components::table::{load_into, loaded};
use crate::components::tr;
use crate::form::{Load, short_time};
use crate::i18n::{Locale, use_i18n};
use certdesk_shared::Named;

/// The series' colours, in order (distinguishable for the common colour blindnesses).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];

const SIZE: (u32, u32) = (720, 300);

fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

pub fn chart_title(c: ChartKind) -> Text {
    match c {
        ChartKind::RequestsPerDay => |l| td_string!(l, chart_requests_per_day),
        ChartKind::ReviewDeadlines => |l| td_string!(l, chart_review_deadlines),
        ChartKind::RevenuePerMonth => |l| td_string!(l, chart_revenue_per_month),
        ChartKind::ExpiringPerWeek => |l| td_string!(l, chart_expiring_per_week),
        ChartKind::RevocationsPerDay => |l| td_string!(l, chart_revocations_per_day),
    }
}

/// The heading of the table's first column: what a bar stands for.
fn axis_title(c: ChartKind) -> Text {
    match c {
        ChartKind::RequestsPerDay | ChartKind::RevocationsPerDay => |l| td_string!(l, col_day),
        ChartKind::ReviewDeadlines => |l| td_string!(l, col_deadline),
        ChartKind::RevenuePerMonth => |l| td_string!(l, col_month),
        ChartKind::ExpiringPerWeek => |l| td_string!(l, col_week_from),
    }
}

fn series_name(key: SeriesKey, l: Locale) -> &'static str {
    match key {
        SeriesKey::Kind(k) => crate::pages::apply::kind_text(k)(l),
        SeriesKey::Reason(r) => crate::pages::search::reason_text(r)(l),
        SeriesKey::Way(RevenueWay::Wechat) => td_string!(l, pay_way_wechat),
        SeriesKey::Way(RevenueWay::Alipay) => td_string!(l, pay_way_alipay),
        SeriesKey::Way(RevenueWay::Transfer) => td_string!(l, pay_by_transfer),
        SeriesKey::Way(RevenueWay::Settlement) => td_string!(l, billing_settlement),
        SeriesKey::Count => td_string!(l, col_count),
    }
}

/// A bar's label: the day or week as `MM-DD`, the month as `YYYY-MM`, a deadline by name.
fn category_label(c: &Category, l: Locale) -> String {
    match c {
        Category::Day(d) | Category::Week(d) => d.get(5..).unwrap_or(d).to_owned(),
        Category::Month(m) => m.clone(),
        Category::Deadline(Deadline::OnTime) => td_string!(l, deadline_on_time).to_owned(),
        Category::Deadline(Deadline::DueToday) => td_string!(l, deadline_due_today).to_owned(),
        Category::Deadline(Deadline::Late) => td_string!(l, deadline_late).to_owned(),
    }
}

fn figure(money: bool, v: i64) -> String {
    if money { yuan(v) } else { v.to_string() }
}

/// At most this many labels along the axis; the last bar (today, this month) always has one.
const AXIS_LABELS: usize = 10;

/// Whether bar `i` of `n` is labelled: every `step`-th counting back from the last.
fn labelled(i: usize, n: usize) -> bool {
    let step = n.div_ceil(AXIS_LABELS).max(1);
    i < n && (n - 1 - i).is_multiple_of(step)
}

/// The chart as SVG, drawn by plotters: a bar per category, the series stacked in it.
pub fn draw(chart: &Chart, labels: &[String]) -> Result<String, String> {
    let n = chart.categories.len().max(1);
    let money = chart.chart.is_money();
    let top = (0..n).map(|i| chart.bar(i)).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut c = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(if money { 80 } else { 48 })
            // Plotters' integer ranges include their end: n slots are 0..n - 1.
            .build_cartesian_2d((0..n - 1).into_segmented(), 0..top + top / 10 + 1)
            .map_err(|e| e.to_string())?;
        let x_label = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) if labelled(*i, n) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let y_label = |v: &i64| figure(money, *v);
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .y_labels(6)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(|e| e.to_string())?;
        let mut base = vec![0i64; n];
        for (k, s) in chart.series.iter().enumerate() {
            let colour = PALETTE[k % PALETTE.len()];
            let mut bars = Vec::new();
            for (i, b) in base.iter_mut().enumerate() {
                let v = s.values.get(i).copied().unwrap_or(0);
                if v > 0 {
                    let mut r = Rectangle::new(
                        [(SegmentValue::Exact(i), *b), (SegmentValue::Exact(i + 1), *b + v)],
                        colour.filled(),
                    );
                    r.set_margin(0, 0, 2, 2);
                    bars.push(r);
                }
                *b += v;
            }
            c.draw_series(bars).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// One chart: its title, the SVG, a legend when it stacks several series, and its figures.
fn chart_view(chart: Chart) -> impl IntoView {
    let i18n = use_i18n();
    let kind = chart.chart;
    let money = kind.is_money();
    let id = kind.as_str();
    let heading = format!("chart-{id}-title");
    let svg = {
        let chart = chart.clone();
        move || {
            let l = i18n.get_locale();
            let labels: Vec<String> = chart.categories.iter().map(|c| category_label(c, l)).collect();
            draw(&chart, &labels).unwrap_or_default()
        }
    };
    let legend = (chart.series.len() > 1).then(|| {
        let items = chart
            .series
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let (key, colour) = (s.key, hex(PALETTE[k % PALETTE.len()]));
                view! {
                    <li>
                        <svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill=colour /></svg>
                        {move || series_name(key, i18n.get_locale())}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="legend">{items}</ul> }
    });
    let heads = chart.series.iter().map(|s| {
        let key = s.key;
        view! { <th scope="col">{move || series_name(key, i18n.get_locale())}</th> }
    });
    let rows = chart
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = c.clone();
            let cells = chart
                .series
                .iter()
                .map(|s| view! { <td>{figure(money, s.values.get(i).copied().unwrap_or(0))}</td> })
                .collect_view();
            let total = figure(money, chart.bar(i));
            view! {
                <tr>
                    <th scope="row">{move || category_label(&c, i18n.get_locale())}</th>
                    {cells}
                    <td>{total}</td>
                </tr>
            }
        })
        .collect_view();
    let total = figure(money, chart.total());
    view! {
        <figure class="chart" data-chart=id aria-labelledby=heading.clone()>
            <h3 id=heading.clone()>{tr(chart_title(kind))}</h3>
            <p class="chart-total">
                {tr(|l| td_string!(l, col_total))}": "<strong>{total}</strong>
            </p>
            <div class="chart-plot" role="img" aria-label=tr(chart_title(kind)) inner_html=svg></div>
            {legend}
            <details>
                <summary>{tr(|l| td_string!(l, chart_figures))}</summary>
                <div class="table-wrap">
                    <table class="data">
                        <thead>
                            <tr>
                                <th scope="col">{tr(axis_title(kind))}</th>
                                {heads.collect_view()}
                                <th scope="col">{tr(|l| td_string!(l, col_total))}</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </details>
        </figure>
    }
}

/// 工作台's body (inside the console, which has checked the session).
#[component]
pub fn DashboardSection() -> impl IntoView {
    let i18n = use_i18n();
    let board = RwSignal::new(Load::<Dashboard>::Loading);
    load_into::<endpoint::GetDashboard>(board, &[], i18n.get_locale_untracked());
    view! {
        <section class="panel dashboard" aria-labelledby="dashboard-title">
            <h2 id="dashboard-title">{tr(|l| td_string!(l, dashboard_title))}</h2>
            {loaded(board, move |d: Dashboard| {
                let as_of = short_time(&d.as_of);
                view! {
                    <p class="muted as-of">{tr(|l| td_string!(l, dashboard_as_of))}" "{as_of}</p>
                    <div class="charts">{d.charts.into_iter().map(chart_view).collect_view()}</div>
                }
                    .into_any()
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use certdesk_shared::dashboard::Series;
    use certdesk_shared::request::RequestKind;

    use super::*;

    /// The x axis's labels in the SVG (the y axis's are numbers).
    fn axis_texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim().to_owned()))
            .filter(|t| t.contains('-'))
            .collect()
    }

    #[test]
    fn plotters_draws_a_stacked_bar_per_value() {
        let chart = Chart {
            chart: ChartKind::RequestsPerDay,
            categories: ["2026-12-01", "2026-12-02", "2026-12-03"].map(|d| Category::Day(d.into())).to_vec(),
            series: vec![
                Series { key: SeriesKey::Kind(RequestKind::Apply), values: vec![2, 0, 1] },
                Series { key: SeriesKey::Kind(RequestKind::Renew), values: vec![1, 0, 4] },
            ],
        };
        let labels: Vec<String> = chart.categories.iter().map(|c| category_label(c, Locale::zh_CN)).collect();
        assert_eq!(labels, ["12-01", "12-02", "12-03"]);
        let svg = draw(&chart, &labels).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("viewBox=\"0 0 720 300\""), "{svg}");
        // Four values above zero, four bars in the series' colours; the empty day has none.
        let bars = |c: RGBColor| {
            svg.matches(&format!("fill=\"{}\"", hex(c).to_uppercase())).count()
                + svg.matches(&format!("fill=\"{}\"", hex(c))).count()
        };
        assert_eq!((bars(PALETTE[0]), bars(PALETTE[1])), (2, 2), "{svg}");
        assert_eq!(axis_texts(&svg), ["12-01", "12-02", "12-03"], "the axis names the days");
        // Thirty days: ten labels, today's the last, every third day back from it.
        let days: Vec<Category> = (1..=30).map(|d| Category::Day(format!("2026-11-{d:02}"))).collect();
        let month = Chart { categories: days, series: vec![chart.series[0].clone()], ..chart };
        let labels: Vec<String> = month.categories.iter().map(|c| category_label(c, Locale::zh_CN)).collect();
        let shown = axis_texts(&draw(&month, &labels).unwrap());
        assert_eq!(shown.len(), 10, "{shown:?}");
        assert_eq!((shown[0].as_str(), shown[9].as_str()), ("11-03", "11-30"));
        // Money is drawn and tabled in yuan.
        assert_eq!(figure(true, 123_456), yuan(123_456));
        assert_eq!(figure(false, 7), "7");
    }
}
