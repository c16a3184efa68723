//! The table: measure, measured figure, target, and whether the target is met.

pub struct Report {
    rows: Vec<(String, String, String, Option<bool>)>,
}

impl Report {
    pub fn new() -> Self {
        Self { rows: vec![] }
    }

    /// A figure with an upper bound.
    pub fn at_most(&mut self, measure: impl Into<String>, value: f64, target: f64, unit: &str) {
        let line = (
            measure.into(),
            format!("{} {unit}", human(value)),
            format!("≤ {} {unit}", human(target)),
            Some(value <= target),
        );
        println!(
            "{:<62} {:>16} {:>16}  {}",
            line.0,
            line.1,
            line.2,
            verdict(line.3)
        );
        self.rows.push(line);
    }

    /// A figure reported for context, without a target of its own.
    pub fn info(&mut self, measure: impl Into<String>, value: String) {
        let line = (measure.into(), value, String::new(), None);
        println!("{:<62} {:>16}", line.0, line.1);
        self.rows.push(line);
    }

    pub fn print(&self) {
        println!("\n{:<62} {:>16} {:>16}", "measure", "measured", "target");
        for (measure, value, target, met) in &self.rows {
            println!("{measure:<62} {value:>16} {target:>16}  {}", verdict(*met));
        }
    }
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "",
    }
}

/// 1234567 → "1.23 M"; small numbers keep three significant digits.
pub fn human(value: f64) -> String {
    let (scaled, suffix) = match value.abs() {
        v if v >= 1e9 => (value / 1e9, " B"),
        v if v >= 1e6 => (value / 1e6, " M"),
        v if v >= 1e4 => (value / 1e3, " k"),
        _ => (value, ""),
    };
    let digits = if scaled.abs() >= 100.0 {
        0
    } else if scaled.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{scaled:.digits$}{suffix}")
}
