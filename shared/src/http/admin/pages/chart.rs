//! The home page's bar charts, as inline SVG built by hand: a value axis rounded up to a
//! readable maximum, one bar per bucket with its figures as a tooltip, and every n-th label.
//! No script and no style attribute (the pages' CSP allows neither inline): colours come from
//! the stylesheet's classes.

use maud::{Markup, html};

/// One bar: its axis label, its tooltip, its height, and whether its figure is complete (a
/// bucket read up to a bound is drawn paler).
pub(super) struct Bar {
    pub label: String,
    pub title: String,
    pub value: u64,
    pub complete: bool,
}

const WIDTH: u64 = 600;
const HEIGHT: u64 = 220;
const LEFT: u64 = 44;
const RIGHT: u64 = 8;
const TOP: u64 = 10;
const BOTTOM: u64 = 26;
const GRID_LINES: u64 = 4;

/// The smallest 1, 2 or 5 × 10ⁿ at or above `max` that splits into [`GRID_LINES`] whole steps.
pub(super) fn axis_max(max: u64) -> u64 {
    if max == 0 {
        return GRID_LINES;
    }
    let mut magnitude = 1u64;
    loop {
        for step in [1, 2, 5] {
            let candidate = step * magnitude * GRID_LINES;
            if candidate >= max {
                return candidate;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// A bar chart; `label_every` shows one axis label per that many bars.
pub(super) fn bars(caption: &str, bars: &[Bar], label_every: usize) -> Markup {
    let top = axis_max(bars.iter().map(|b| b.value).max().unwrap_or(0));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w as f64 / bars.len().max(1) as f64;
    let bar_w = (slot * 0.7).max(1.0);
    let y_of = |v: u64| TOP as f64 + plot_h as f64 * (1.0 - v as f64 / top as f64);
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(caption) {
            title { (caption) }
            @for i in 0..=GRID_LINES {
                @let v = top / GRID_LINES * i;
                @let y = format!("{:.1}", y_of(v));
                line.grid x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y) y2=(y) {}
                text x=(LEFT - 6) y=(y) text-anchor="end" dominant-baseline="middle" { (super::show::count(v)) }
            }
            line.axis x1=(LEFT) x2=(WIDTH - RIGHT) y1=(TOP + plot_h) y2=(TOP + plot_h) {}
            @for (i, bar) in bars.iter().enumerate() {
                @let x = LEFT as f64 + slot * i as f64 + (slot - bar_w) / 2.0;
                @let y = y_of(bar.value);
                rect.bar.partial[!bar.complete] x=(format!("{x:.1}")) y=(format!("{y:.1}")) width=(format!("{bar_w:.1}")) height=(format!("{:.1}", (TOP + plot_h) as f64 - y)) {
                    title { (bar.title) }
                }
                @if i % label_every.max(1) == 0 {
                    text x=(format!("{:.1}", x + bar_w / 2.0)) y=(HEIGHT - 8) text-anchor="middle" { (bar.label) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_rounds_up_to_a_readable_maximum() {
        assert_eq!(axis_max(0), 4);
        assert_eq!(axis_max(3), 4);
        assert_eq!(axis_max(7), 8);
        assert_eq!(axis_max(17), 20);
        assert_eq!(axis_max(41), 80);
        assert_eq!(axis_max(1234), 2000);
    }

    #[test]
    fn every_bar_is_drawn_with_its_tooltip_and_every_nth_label() {
        let bars: Vec<Bar> = (0..24).map(|h| Bar { label: format!("{h}시"), title: format!("{h}시 · {h}건"), value: h, complete: h != 5 }).collect();
        let svg = super::bars("시간별 입금", &bars, 6).into_string();
        assert_eq!(svg.matches("<rect").count(), 24);
        assert_eq!(svg.matches("class=\"bar partial\"").count(), 1);
        assert!(svg.contains("<title>23시 · 23건</title>"));
        assert!(svg.contains(">18시</text>") && !svg.contains(">19시</text>"));
        assert!(!svg.contains("style="), "the CSP allows no inline style");
    }
}
