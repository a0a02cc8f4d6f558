//! A loss curve as a PNG, with a title, labelled axes and tick numbers drawn in a font that is
//! embedded in the example (`examples/assets/DejaVuSans.ttf`), so no system font is needed.

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

/// The font's family name as the chart asks for it.
const FONT: &str = "DejaVu Sans";

/// A tick number: at most four decimals, without trailing zeros.
fn tick(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Draws `series` (one value per step, on a log scale) and a smoothed copy to an 800×500 PNG at
/// `path`: steps on the bottom axis, epochs (`steps_per_epoch` steps each) on the top one.
pub fn save_loss_curve(
    path: &std::path::Path,
    series: &[f32],
    steps_per_epoch: usize,
    title: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    register_font(FONT, FontStyle::Normal, include_bytes!("../assets/DejaVuSans.ttf"))
        .map_err(|_| "the embedded font is not a valid TrueType font")?;
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let values: Vec<f64> = series.iter().map(|&v| (v as f64).max(1e-8)).collect();
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo < hi { (lo / 1.2, hi * 1.2) } else { (lo / 2.0, lo * 2.0) };
    let steps = values.len().max(2) as f64;
    let epochs = (values.len() as f64 / steps_per_epoch.max(1) as f64).max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .top_x_label_area_size(40)
        .build_cartesian_2d(0f64..steps, (lo..hi).log_scale())?
        .set_secondary_coord(0f64..epochs, (lo..hi).log_scale());
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("loss (log scale)")
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 13))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| tick(*y))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    chart
        .configure_secondary_axes()
        .x_desc("epoch")
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 13))
        .x_label_formatter(&|e| format!("{e:.0}"))
        .y_labels(0)
        .draw()?;
    chart
        .draw_series(LineSeries::new(values.iter().enumerate().map(|(i, &v)| (i as f64, v)), RGBColor(150, 180, 230)))?
        .label("loss of each step")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RGBColor(150, 180, 230)));
    let w = (values.len() / 50).max(1);
    let smooth: Vec<(f64, f64)> = (0..values.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(w), (i + w + 1).min(values.len()));
            // the geometric mean: a running mean on the log scale
            (i as f64, (values[a..b].iter().map(|v| v.ln()).sum::<f64>() / (b - a) as f64).exp())
        })
        .collect();
    chart
        .draw_series(LineSeries::new(smooth, BLUE.stroke_width(2)))?
        .label(format!("running mean over {} steps", 2 * w + 1))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}
