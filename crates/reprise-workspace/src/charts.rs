//! Pictures drawn as SVG (no script, no external asset) for the pages the server renders:
//! how old an asset's newest restore point was over time against its RPO, what its
//! backups read and added, and an incident plan's timeline.

use std::fmt::Write;

use jiff::Timestamp;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 12.0;

fn esc(s: &str) -> String {
    crate::html::escape(s)
}

/// A span of seconds in the largest unit that keeps it readable.
fn span(seconds: f64) -> String {
    if seconds >= 2.0 * 86_400.0 {
        format!("{:.0} d", seconds / 86_400.0)
    } else if seconds >= 2.0 * 3_600.0 {
        format!("{:.0} h", seconds / 3_600.0)
    } else {
        format!("{:.0} min", seconds / 60.0)
    }
}

fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.0} {}", UNITS[unit])
}

/// The frame: axes, the y labels at 0 and `max`, and the x labels at the ends.
fn frame(out: &mut String, max_label: &str, from: &str, to: &str) {
    let bottom = HEIGHT - BOTTOM;
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{bottom}\" stroke=\"#888\"/>\
         <line x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{WIDTH}\" y2=\"{bottom}\" stroke=\"#888\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>\
         <text x=\"{}\" y=\"{bottom}\" font-size=\"11\" text-anchor=\"end\">0</text>\
         <text x=\"{LEFT}\" y=\"{}\" font-size=\"11\">{}</text>\
         <text x=\"{WIDTH}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
        LEFT - 4.0,
        TOP + 10.0,
        esc(max_label),
        LEFT - 4.0,
        HEIGHT - 6.0,
        esc(from),
        HEIGHT - 6.0,
        esc(to),
    );
}

/// How old the newest restore point was at each moment, from the first point to `now`:
/// a sawtooth that drops to zero at each new point, against the RPO drawn as a line.
/// `None` without any point.
pub fn age_against_rpo(
    points: &[Timestamp],
    rpo_seconds: Option<u64>,
    now: Timestamp,
    label: &dyn Fn(Timestamp) -> String,
    title: &str,
) -> Option<String> {
    let mut times: Vec<Timestamp> = points.to_vec();
    times.sort();
    times.dedup();
    let first = *times.first()?;
    let total = now.duration_since(first).as_secs_f64().max(1.0);
    // The oldest age reached: just before each next point, and now.
    let mut worst: f64 = 0.0;
    for pair in times.windows(2) {
        worst = worst.max(pair[1].duration_since(pair[0]).as_secs_f64());
    }
    let last = *times.last()?;
    worst = worst.max(now.duration_since(last).as_secs_f64());
    let top = worst.max(rpo_seconds.unwrap_or(0) as f64 * 1.2).max(60.0);
    let x = |t: Timestamp| LEFT + (WIDTH - LEFT) * (t.duration_since(first).as_secs_f64() / total);
    let y = |age: f64| (HEIGHT - BOTTOM) - (HEIGHT - BOTTOM - TOP) * (age / top);
    let mut line = String::new();
    for (i, t) in times.iter().enumerate() {
        let next = times.get(i + 1).copied().unwrap_or(now);
        let age = next.duration_since(*t).as_secs_f64();
        let _ = write!(
            line,
            "{:.1},{:.1} {:.1},{:.1} ",
            x(*t),
            y(0.0),
            x(next),
            y(age)
        );
    }
    let mut out = format!(
        "<svg class=\"chart\" id=\"chart-age\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{t}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>",
        t = esc(title)
    );
    frame(&mut out, &span(top), &label(first), &label(now));
    if let Some(rpo) = rpo_seconds {
        let ry = y(rpo as f64);
        let _ = write!(
            out,
            "<line class=\"rpo\" x1=\"{LEFT}\" y1=\"{ry:.1}\" x2=\"{WIDTH}\" y2=\"{ry:.1}\" stroke=\"#b91c1c\" stroke-dasharray=\"6 4\"/>\
             <text x=\"{WIDTH}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#b91c1c\">RPO {}</text>",
            ry - 3.0,
            esc(&span(rpo as f64))
        );
    }
    let _ = write!(
        out,
        "<polyline class=\"age\" fill=\"none\" stroke=\"#1d4ed8\" stroke-width=\"2\" points=\"{}\"/></svg>",
        line.trim_end()
    );
    Some(out)
}

/// One backup run: when, what it read, what it added.
pub struct Sized {
    pub at: Timestamp,
    pub read: Option<u64>,
    pub added: Option<u64>,
}

/// What each backup read (a line) and added to the repository (bars), oldest first.
/// `None` without any run that measured them.
pub fn backup_sizes(
    runs: &[Sized],
    label: &dyn Fn(Timestamp) -> String,
    title: &str,
    legend: (&str, &str),
) -> Option<String> {
    let runs: Vec<&Sized> = runs
        .iter()
        .filter(|r| r.read.is_some() || r.added.is_some())
        .collect();
    let (first, last) = (runs.first()?, runs.last()?);
    let top = runs
        .iter()
        .flat_map(|r| [r.read, r.added])
        .flatten()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let n = runs.len() as f64;
    let step = (WIDTH - LEFT) / n;
    let y = |v: f64| (HEIGHT - BOTTOM) - (HEIGHT - BOTTOM - TOP) * (v / top);
    let mut out = format!(
        "<svg class=\"chart\" id=\"chart-sizes\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{t}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>",
        t = esc(title)
    );
    frame(&mut out, &bytes(top), &label(first.at), &label(last.at));
    let mut line = String::new();
    for (i, r) in runs.iter().enumerate() {
        let cx = LEFT + step * (i as f64 + 0.5);
        if let Some(a) = r.added {
            let h = (HEIGHT - BOTTOM) - y(a as f64);
            let _ = write!(
                out,
                "<rect class=\"added\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"#93c5fd\"><title>{}</title></rect>",
                cx - step * 0.35,
                y(a as f64),
                step * 0.7,
                esc(&format!(
                    "{}: {} {}",
                    label(r.at),
                    legend.1,
                    bytes(a as f64)
                ))
            );
        }
        if let Some(v) = r.read {
            let _ = write!(line, "{cx:.1},{:.1} ", y(v as f64));
        }
    }
    let _ = write!(
        out,
        "<polyline class=\"read\" fill=\"none\" stroke=\"#1e3a8a\" stroke-width=\"2\" points=\"{}\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#1e3a8a\">— {}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#2563eb\">▮ {}</text></svg>",
        line.trim_end(),
        LEFT + 8.0,
        TOP + 10.0,
        esc(legend.0),
        LEFT + 8.0,
        TOP + 24.0,
        esc(legend.1),
    );
    Some(out)
}

/// One step of an approved plan, as the timeline draws it (seconds from the approval).
pub struct StepBar {
    pub name: String,
    pub wave: usize,
    pub predicted_start: f64,
    pub predicted_end: f64,
    /// What happened: from its start to its end (or to now while it runs).
    pub actual: Option<(f64, f64)>,
    /// `done`, `failed`, `running`, `skipped`, `pending`.
    pub status: &'static str,
    /// On the critical path: the step that makes its wave last.
    pub critical: bool,
}

/// Predicted and actual times of every step, wave by wave, with the critical path drawn
/// out: what the incident room looks at to know whether the plan holds.
pub fn plan_timeline(steps: &[StepBar], title: &str, legend: [&str; 3]) -> Option<String> {
    if steps.is_empty() {
        return None;
    }
    let row = 22.0;
    let label_w = 180.0;
    let height = TOP + row * steps.len() as f64 + BOTTOM + 18.0;
    let end = steps
        .iter()
        .flat_map(|s| [s.predicted_end, s.actual.map_or(0.0, |a| a.1)])
        .fold(60.0, f64::max);
    let x = |secs: f64| label_w + (WIDTH - label_w - 8.0) * (secs / end);
    let mut out = format!(
        "<svg class=\"chart\" id=\"plan-timeline\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{t}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>",
        t = esc(title)
    );
    let mut last_wave = 0;
    for (i, s) in steps.iter().enumerate() {
        let y = TOP + row * i as f64;
        if s.wave != last_wave {
            let _ = write!(
                out,
                "<line x1=\"0\" y1=\"{y:.1}\" x2=\"{WIDTH}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>"
            );
            last_wave = s.wave;
        }
        let _ = write!(
            out,
            "<text x=\"4\" y=\"{:.1}\" font-size=\"11\">{} · {}</text>",
            y + 15.0,
            s.wave,
            esc(&s.name)
        );
        let (px, pw) = (
            x(s.predicted_start),
            (x(s.predicted_end) - x(s.predicted_start)).max(2.0),
        );
        let _ = write!(
            out,
            "<rect class=\"predicted{}\" x=\"{px:.1}\" y=\"{:.1}\" width=\"{pw:.1}\" height=\"8\" fill=\"#d1d5db\"{}/>",
            if s.critical { " critical" } else { "" },
            y + 3.0,
            if s.critical {
                " stroke=\"#b91c1c\" stroke-width=\"1.5\""
            } else {
                ""
            }
        );
        if let Some((a, b)) = s.actual {
            let colour = match s.status {
                "done" => "#15803d",
                "failed" => "#b91c1c",
                "skipped" => "#6b7280",
                _ => "#1d4ed8",
            };
            let _ = write!(
                out,
                "<rect class=\"actual {}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"8\" fill=\"{colour}\"/>",
                s.status,
                x(a),
                y + 12.0,
                (x(b) - x(a)).max(2.0)
            );
        }
    }
    let base = TOP + row * steps.len() as f64;
    let _ = write!(
        out,
        "<text x=\"{label_w}\" y=\"{:.1}\" font-size=\"11\">0</text><text x=\"{WIDTH}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>\
         <text x=\"4\" y=\"{:.1}\" font-size=\"11\"><tspan fill=\"#6b7280\">▬ {}</tspan>  <tspan fill=\"#15803d\">▬ {}</tspan>  <tspan fill=\"#b91c1c\">▭ {}</tspan></text></svg>",
        base + 12.0,
        base + 12.0,
        esc(&span(end)),
        base + 30.0,
        esc(legend[0]),
        esc(legend[1]),
        esc(legend[2]),
    );
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + h * 3600).unwrap()
    }

    #[test]
    fn the_age_chart_rises_between_points_and_shows_the_rpo() {
        let label = |t: Timestamp| t.to_string();
        let svg =
            age_against_rpo(&[t(0), t(4), t(8)], Some(6 * 3600), t(20), &label, "age").unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("class=\"rpo\"") && svg.contains("RPO 6 h"));
        // Three points: three teeth, the last one up to now (12 h, past the RPO).
        let points = svg.split("points=\"").nth(1).unwrap();
        assert_eq!(points.split(' ').filter(|p| p.contains(',')).count(), 6);
        assert!(svg.contains("<title>age</title>"));
        assert!(age_against_rpo(&[], None, t(1), &label, "age").is_none());
    }

    #[test]
    fn the_timeline_shows_each_step_predicted_and_actual_and_the_critical_path() {
        let bar = |name: &str, wave, start, end, actual, status, critical| StepBar {
            name: name.into(),
            wave,
            predicted_start: start,
            predicted_end: end,
            actual,
            status,
            critical,
        };
        let svg = plan_timeline(
            &[
                bar("Routeur", 1, 0.0, 1800.0, Some((0.0, 2400.0)), "done", true),
                bar(
                    "Messagerie",
                    2,
                    1800.0,
                    3600.0,
                    Some((2400.0, 2500.0)),
                    "running",
                    true,
                ),
                bar("Windows", 2, 1800.0, 2000.0, None, "pending", false),
            ],
            "timeline",
            ["predicted", "actual", "critical path"],
        )
        .unwrap();
        assert_eq!(svg.matches("class=\"predicted").count(), 3);
        assert_eq!(svg.matches("predicted critical").count(), 2);
        assert_eq!(svg.matches("class=\"actual").count(), 2);
        assert!(svg.contains("1 · Routeur") && svg.contains("critical path"));
        assert!(plan_timeline(&[], "t", ["a", "b", "c"]).is_none());
    }

    #[test]
    fn the_size_chart_has_a_bar_per_run_and_escapes_its_words() {
        let label = |t: Timestamp| t.to_string();
        let runs = [
            Sized {
                at: t(0),
                read: Some(5000),
                added: Some(5000),
            },
            Sized {
                at: t(1),
                read: Some(5100),
                added: Some(250),
            },
            Sized {
                at: t(2),
                read: None,
                added: None,
            },
        ];
        let svg = backup_sizes(&runs, &label, "<sizes>", ("read", "added")).unwrap();
        assert_eq!(svg.matches("class=\"added\"").count(), 2);
        assert!(svg.contains("&lt;sizes&gt;") && !svg.contains("<sizes>"));
        assert!(backup_sizes(&runs[2..], &label, "x", ("a", "b")).is_none());
    }
}
