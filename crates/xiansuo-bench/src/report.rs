//! How a figure is printed beside the machine it was measured on: the machine line (cores, CPU
//! model, load average at the start, date in UTC), rates with thousands separators, and a rate
//! as a share of each limit the probe measured.

/// The machine a measurement ran on, as it was when the measurement started.
pub struct Machine {
    cores: usize,
    cpu: String,
    load: String,
    at: String,
}

impl Machine {
    /// The machine now: cores this process may use, the CPU model of `/proc/cpuinfo` and the
    /// load average of `/proc/loadavg` (each "unknown" where the file cannot be read).
    pub fn now() -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        Machine {
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            cpu: cpu_model(&read("/proc/cpuinfo")).unwrap_or_else(|| "unknown".into()),
            load: load_average(&read("/proc/loadavg")).unwrap_or_else(|| "unknown".into()),
            at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }

    /// One line, e.g. `machine: 2 cores, AMD EPYC, load average 6.23 / 5.24 / 2.75 at the
    /// start, 2026-12-07 12:36 UTC`.
    pub fn line(&self) -> String {
        format!(
            "machine: {} cores, {}, load average {} at the start, {}",
            self.cores, self.cpu, self.load, self.at
        )
    }
}

/// The first `model name` of a `/proc/cpuinfo`.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// The 1, 5 and 15 minute load averages of a `/proc/loadavg`, as `1.00 / 0.50 / 0.25`.
fn load_average(loadavg: &str) -> Option<String> {
    let fields: Vec<&str> = loadavg.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" / "))
}

/// A rate rounded to a whole number with thousands separators: `19,950`.
pub fn thousands(rate: f64) -> String {
    let digits = format!("{:.0}", rate.max(0.0));
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `part` as a share of `whole`: whole percents from 10% on, one decimal below.
pub fn percent(part: f64, whole: f64) -> String {
    if whole <= 0.0 {
        return "an unknown share".into();
    }
    let share = part / whole * 100.0;
    if share >= 9.95 {
        format!("{share:.0}%")
    } else {
        format!("{share:.1}%")
    }
}

/// A limit the probe measured on this machine.
pub struct Limit {
    /// What it is, as it reads after "of": `the raw SQLite limit`.
    pub name: &'static str,
    pub rate: f64,
    /// `tx/s`, `req/s`.
    pub unit: &'static str,
}

/// The figure beside each limit: `ingest 2,580 leads/s = 13% of the raw SQLite limit 19,950
/// tx/s, 2.1% of the HTTP echo 122,000 req/s`.
pub fn beside(what: &str, rate: f64, unit: &str, limits: &[Limit]) -> String {
    let shares: Vec<String> = limits
        .iter()
        .map(|limit| {
            format!(
                "{} of {} {} {}",
                percent(rate, limit.rate),
                limit.name,
                thousands(limit.rate),
                limit.unit
            )
        })
        .collect();
    format!("{what} {} {unit} = {}", thousands(rate), shares.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_get_thousands_separators() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(999.6), "1,000");
        assert_eq!(thousands(19_950.0), "19,950");
        assert_eq!(thousands(122_000.0), "122,000");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }

    #[test]
    fn shares_are_whole_percents_unless_small() {
        assert_eq!(percent(2_580.0, 19_950.0), "13%");
        assert_eq!(percent(2_580.0, 122_000.0), "2.1%");
        assert_eq!(percent(50.0, 122_000.0), "0.0%");
        assert_eq!(percent(19_950.0, 19_950.0), "100%");
        assert_eq!(percent(1.0, 0.0), "an unknown share");
    }

    #[test]
    fn a_figure_is_printed_beside_each_limit() {
        let limits = [
            Limit {
                name: "the raw SQLite limit",
                rate: 19_950.0,
                unit: "tx/s",
            },
            Limit {
                name: "the HTTP echo",
                rate: 122_000.0,
                unit: "req/s",
            },
        ];
        assert_eq!(
            beside("ingest", 2_580.0, "leads/s", &limits),
            "ingest 2,580 leads/s = 13% of the raw SQLite limit 19,950 tx/s, \
             2.1% of the HTTP echo 122,000 req/s"
        );
    }

    #[test]
    fn the_machine_is_read_from_proc() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\
                       processor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model("processor : 0\n"), None);
        assert_eq!(
            load_average("6.23 5.24 2.75 3/412 21244\n").as_deref(),
            Some("6.23 / 5.24 / 2.75")
        );
        assert_eq!(load_average(""), None);
        let line = Machine::now().line();
        assert!(line.starts_with("machine: "), "{line}");
        assert!(line.ends_with(" UTC"), "{line}");
    }
}
