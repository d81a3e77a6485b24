//! The figures a run prints: what was delivered and answered, what was verified, and how the
//! instances went through the database's outage.

use std::time::Duration;

use crate::secs;

pub fn storm(report: &crate::storm::Report) {
    println!(
        "storm: {} deliveries in the first pass ({} genuine events, {} duplicates = {:.0} %, {} forged), \
         then {} redeliveries in {} rounds; {} in all, p99 {} ms, slowest {} ms",
        report.first_pass,
        report.genuine,
        report.duplicates,
        100.0 * report.duplicates as f64 / report.first_pass as f64,
        report.forged,
        report.redelivered,
        report.rounds,
        secs(report.took),
        report.p99.as_millis(),
        report.slowest.as_millis()
    );
    println!(
        "  answers: {:?}; forged refused (400): {}",
        report.answers, report.forged_refused
    );
    println!(
        "  B killed (SIGKILL) {} into the storm, down {}, restarted and ready in {}",
        secs(report.killed_after),
        secs(report.down_for),
        secs(report.restart_took)
    );
}

pub fn verified(figures: &crate::verify::Figures, asked: usize, took: Duration) {
    println!(
        "verified {} orders ({} paid, {} refunded in part, {} in full, {} never paid), {} payment events, \
         {} ledger entries (balanced), {} access answers from both instances, in {}",
        figures.orders,
        figures.paid,
        figures.refunded_in_part,
        figures.refunded_in_full,
        figures.untouched,
        figures.payment_events,
        figures.ledger_entries,
        asked,
        secs(took)
    );
}

pub fn outage(outage: &crate::outage::Report) {
    println!(
        "PostgreSQL down {} (stopped as in a crash): {} polls ({} answered 503 problem+json), {} webhook \
         deliveries ({} answered 503), slowest answer {} ms",
        secs(outage.down_for),
        outage.polls,
        outage.unavailable_answers,
        outage.drizzle,
        outage.drizzle_unavailable,
        outage.slowest.as_millis()
    );
    for (i, name) in ["A", "B"].iter().enumerate() {
        let during = &outage.during[i];
        println!(
            "  {name}: 503 window {} (stop to first 200), 200 again {} ms after PostgreSQL was back; meanwhile \
             /healthz {} in {} ms, /readyz {} in {} ms, a webhook {}, a page {}, a token it had not seen {} in {} ms",
            secs(outage.unavailable_for[i]),
            outage.recovered_after[i].as_millis(),
            during.healthz.0,
            during.healthz.1.as_millis(),
            during.readyz.0,
            during.readyz.1.as_millis(),
            during.webhook,
            during.page,
            during.fresh_token.0,
            during.fresh_token.1.as_millis()
        );
    }
    println!(
        "  both instances LISTEN again {} ms after that; the payment refused during the outage, delivered \
         again to A: B grants access {} ms later (told by NOTIFY)",
        outage.listening_again_after.as_millis(),
        outage.other_instance_knew_after.as_millis()
    );
}
