//! A loss curve as a PNG, drawn without text so that no system fonts are needed.

use plotters::prelude::*;

/// Draws `series` (one value per step, shown on a log scale) and, if given, a smoothed copy,
/// to a 800×500 PNG at `path`.
pub fn save_loss_curve(path: &std::path::Path, series: &[f32]) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let logs: Vec<f64> = series.iter().map(|&v| (v.max(1e-8) as f64).log10()).collect();
    let (lo, hi) = logs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let pad = ((hi - lo) * 0.05).max(1e-3);
    let mut chart =
        ChartBuilder::on(&root).margin(20).build_cartesian_2d(0f64..logs.len().max(2) as f64, lo - pad..hi + pad)?;
    // grid lines at every power of ten, and a frame
    let (x_end, area) = (logs.len().max(2) as f64, chart.plotting_area());
    for decade in (lo - pad).floor() as i32..=(hi + pad).ceil() as i32 {
        let y = decade as f64;
        if y > lo - pad && y < hi + pad {
            area.draw(&PathElement::new(vec![(0.0, y), (x_end, y)], RGBColor(210, 210, 210)))?;
        }
    }
    area.draw(&Rectangle::new([(0.0, lo - pad), (x_end, hi + pad)], BLACK.stroke_width(1)))?;
    chart
        .draw_series(LineSeries::new(logs.iter().enumerate().map(|(i, &v)| (i as f64, v)), RGBColor(150, 180, 230)))?;
    let w = (logs.len() / 50).max(1);
    let smooth: Vec<(f64, f64)> = (0..logs.len())
        .map(|i| {
            let a = i.saturating_sub(w);
            let b = (i + w + 1).min(logs.len());
            (i as f64, logs[a..b].iter().sum::<f64>() / (b - a) as f64)
        })
        .collect();
    chart.draw_series(LineSeries::new(smooth, BLUE.stroke_width(2)))?;
    root.present()?;
    Ok(())
}
