//! Anomalies: a backup run that departs sharply from the asset's own history — the way a
//! ransomware encryption wave (everything changed) or a silently empty dump (nothing
//! there) shows up. Robust statistics: the median and the median absolute deviation
//! (MAD), so one earlier outlier does not hide the next.

/// How far from its history a value must be, in robust standard deviations.
pub(crate) const THRESHOLD: f64 = 3.5;

/// The fewest earlier runs needed before judging a new one.
pub(crate) const MIN_HISTORY: usize = 5;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// How unusual `latest` is against `history`: the robust z-score, or `None` when the
/// history is too short to say. A history without any spread (every run the same) makes
/// any departure of more than half the usual value infinitely unusual.
pub(crate) fn score(history: &[f64], latest: f64) -> Option<f64> {
    if history.len() < MIN_HISTORY {
        return None;
    }
    let mut values = history.to_vec();
    let med = median(&mut values);
    let mut deviations: Vec<f64> = history.iter().map(|v| (v - med).abs()).collect();
    let mad = median(&mut deviations);
    let distance = (latest - med).abs();
    if mad == 0.0 {
        let scale = med.abs().max(1.0);
        return Some(if distance > scale * 0.5 {
            f64::INFINITY
        } else {
            0.0
        });
    }
    Some(distance / (1.4826 * mad))
}

/// Whether `latest` is an anomaly against `history`.
pub fn is_anomaly(history: &[f64], latest: f64) -> bool {
    score(history, latest).is_some_and(|s| s > THRESHOLD)
}

/// Whether `latest` is an anomaly against `history` by being far *above* it: for what
/// deduplication makes small as a matter of course (bytes added by a backup whose data
/// was seen before), only a surge says something.
pub fn is_surge(history: &[f64], latest: f64) -> bool {
    let mut values = history.to_vec();
    !values.is_empty() && latest > median(&mut values) && is_anomaly(history, latest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silently_empty_dump_stands_out() {
        let sizes = [1000.0, 1010.0, 990.0, 1005.0, 1020.0, 995.0];
        assert!(is_anomaly(&sizes, 0.0));
        assert!(!is_anomaly(&sizes, 1008.0));
    }

    #[test]
    fn an_encryption_wave_stands_out_even_after_an_earlier_outlier() {
        let added = [10.0, 12.0, 9.0, 500.0, 11.0, 10.0, 13.0];
        assert!(is_anomaly(&added, 900.0));
        assert!(!is_anomaly(&added, 14.0));
    }

    #[test]
    fn only_a_surge_of_added_bytes_stands_out() {
        let added = [5860.0, 5900.0, 5800.0, 5870.0, 5850.0, 5880.0];
        // Data seen before adds next to nothing: deduplication, not an anomaly.
        assert!(!is_surge(&added, 250.0));
        assert!(is_surge(&added, 90_000.0));
    }

    #[test]
    fn a_short_or_flat_history_is_handled() {
        assert_eq!(score(&[1.0, 2.0], 100.0), None);
        let flat = [5.0; 6];
        assert!(!is_anomaly(&flat, 5.0));
        assert!(is_anomaly(&flat, 0.0));
    }
}
