//! What both benchmarks need around criterion: its filter, where it keeps its results,
//! a median it saved in this run, and callgrind's count of a run.

// Each bench uses what it needs of this.
#![allow(dead_code)]

/// The benchmark filter criterion was given (its one positional argument), if any.
pub fn criterion_filter(args: &[String]) -> Option<&str> {
    // criterion's options that take a value as the next argument.
    const WITH_VALUE: &[&str] = &[
        "-c",
        "--color",
        "-s",
        "--save-baseline",
        "-b",
        "--baseline",
        "--baseline-lenient",
        "--format",
        "--profile-time",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--plotting-backend",
        "--output-format",
    ];
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        if WITH_VALUE.contains(&arg.as_str()) {
            rest.next();
        } else if !arg.starts_with('-') {
            return Some(arg);
        }
    }
    None
}

/// The run's start, where criterion keeps its results, and a criterion configured as
/// both benches use it (10 samples; the times given; command-line flags on top).
/// `measuring`: `cargo bench` passes `--bench`, `cargo test --benches` does not, and
/// criterion then runs each benchmark once as a test.
pub fn criterion_setup(
    args: &[String],
    warm_up: std::time::Duration,
    measurement: std::time::Duration,
) -> (
    bool,
    std::time::SystemTime,
    std::path::PathBuf,
    criterion::Criterion,
) {
    let measuring = args.iter().any(|a| a == "--bench");
    let results = criterion_home();
    let c = criterion::Criterion::default()
        .output_directory(&results)
        .sample_size(10)
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        .configure_from_args();
    (measuring, std::time::SystemTime::now(), results, c)
}

/// Where criterion keeps its results: `$CRITERION_HOME`, else `criterion/` in the
/// target directory this bench was built into (`target/release/deps/<bench>-…`).
pub fn criterion_home() -> std::path::PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("criterion")))
        .unwrap_or_else(|| "target/criterion".into())
}

/// The median time of one iteration of `group/id` in nanoseconds, as criterion saved it
/// in this run (`None` if the benchmark did not run: filtered out, or no baseline kept).
pub fn median_ns(
    results: &std::path::Path,
    group: &str,
    id: &str,
    since: std::time::SystemTime,
) -> Option<f64> {
    let file = results.join(group).join(id).join("new/estimates.json");
    let fresh = std::fs::metadata(&file).ok()?.modified().ok()? >= since;
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
    fresh.then(|| estimates["median"]["point_estimate"].as_f64())?
}

/// The instructions a callgrind run counted, from its standard error
/// (`==PID== Collected : 123456789`).
pub fn collected(out: &std::process::Output) -> Option<u64> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.contains("Collected :"))?;
    line.rsplit(' ').next()?.trim().parse().ok()
}
