//! `churn`: the end-to-end suites' file writer as a process of its own (see
//! `sheaf_e2e::churn`): `churn files|all AREA PREFIX TAG SEED MILLISECONDS` writes until the
//! time is up, then prints its report as one JSON line.
#![allow(clippy::unwrap_used)]

use sheaf_e2e::churn::Churn;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let churn = Churn::from_args(&args).unwrap_or_else(|usage| {
        eprintln!("usage: {usage}");
        std::process::exit(2);
    });
    let report = churn.run();
    println!("{}", serde_json::to_string(&report).unwrap());
}
