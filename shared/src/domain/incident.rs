//! Operations incidents: alerts of one kind about one subject (a merchant's dead-lettered
//! webhooks, a bank's pool, a CloudWatch alarm) gather into one incident, so the on-call sees
//! one thing to acknowledge and resolve, not a stream of messages.
//!
//! The escalation rule: an incident starts as a warning; it pages once
//! [`EscalationRule::after`] of its alerts fall within [`EscalationRule::window`] of each
//! other. An alert on a resolved incident opens a new incident.

use super::time::kst_serde;
use super::{IncidentId, OperatorName};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Posted to the channel; nobody is woken.
    Warning,
    /// The on-call is paged (Slack `<!channel>`).
    Page,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Acknowledged,
    Resolved,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 3] = [IncidentStatus::Open, IncidentStatus::Acknowledged, IncidentStatus::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Acknowledged => "acknowledged",
            IncidentStatus::Resolved => "resolved",
        }
    }
}

impl std::str::FromStr for IncidentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<IncidentStatus, String> {
        IncidentStatus::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| "must be open, acknowledged or resolved".to_owned())
    }
}

/// When alerts page: `after` alerts within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationRule {
    pub after: u32,
    pub window: Duration,
}

impl EscalationRule {
    /// Whether these alert times (oldest first) hold `after` alerts within `window`: the
    /// newest and the `after`-th newest are at most `window` apart.
    pub fn escalates(&self, times: &[DateTime<Utc>]) -> bool {
        let n = usize::try_from(self.after.max(1)).unwrap_or(usize::MAX);
        if times.len() < n {
            return false;
        }
        let newest = times[times.len() - 1];
        let nth_newest = times[times.len() - n];
        newest - nth_newest <= self.window
    }

    /// How many recent alert times an incident keeps: all the rule ever looks at.
    fn keep(&self) -> usize {
        usize::try_from(self.after.max(1)).unwrap_or(usize::MAX)
    }
}

/// One alert as the incident sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertFacts {
    /// `webhook.dead_lettered`, `pool.low`, `notice.failed`, `reconciliation.mismatch`,
    /// `reconciliation.statement_missing`, `alarm`.
    pub kind: String,
    /// What it is about: a merchant id, a bank code, an alarm name.
    pub subject: String,
    pub at: DateTime<Utc>,
    /// Pages at once, whatever the count (a CloudWatch alarm in `ALARM`).
    pub pages: bool,
}

/// A monitoring alarm's change of state, in our terms (the monitoring adapter, `aws::alarms`,
/// reads CloudWatch's). Entering [`AlarmState::Alarm`] pages at once; going back to
/// [`AlarmState::Ok`] resolves the alarm's incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmChange {
    /// Which monitor raised it, as operators know it: `CloudWatch`.
    pub monitor: &'static str,
    /// The alarm's name: its incident's subject.
    pub name: String,
    pub state: AlarmState,
    /// Why, in the monitor's words.
    pub reason: String,
    /// When the state changed, where the monitor said so readably.
    pub at: Option<DateTime<Utc>>,
    /// The monitor's own mark of this change (its change time as sent), the same on every
    /// delivery of it: with the name and state, it tells one change from another.
    pub mark: String,
}

/// The states of an alarm that say something about the service's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    Alarm,
    Ok,
}

impl AlarmState {
    /// As the monitor writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Alarm => "ALARM",
            AlarmState::Ok => "OK",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    #[error("an incident that is {from} cannot be {action}")]
    NotAllowed { from: &'static str, action: &'static str },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub kind: String,
    pub subject: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    /// Alerts recorded on it, all time.
    pub count: u32,
    #[serde(with = "kst_serde")]
    pub first_at: DateTime<Utc>,
    #[serde(with = "kst_serde")]
    pub last_at: DateTime<Utc>,
    /// The newest alert times, oldest first: as many as the escalation rule looks at.
    pub recent_at: Vec<kst_instant::Instant>,
    pub acknowledged_by: Option<OperatorName>,
    #[serde(with = "kst_serde::option")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The operator who resolved it; `None` when its alarm went back to OK by itself.
    pub resolved_by: Option<OperatorName>,
    #[serde(with = "kst_serde::option")]
    pub resolved_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// A list of instants in the contract's KST form (serde `with` does not reach into a `Vec`).
pub mod kst_instant {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(transparent)]
    pub struct Instant(#[serde(with = "kst_serde")] pub DateTime<Utc>);
}

impl Incident {
    /// A new incident from its first alert.
    pub fn open(id: IncidentId, alert: &AlertFacts, rule: EscalationRule) -> Incident {
        let severity = if alert.pages || rule.escalates(&[alert.at]) { Severity::Page } else { Severity::Warning };
        Incident {
            id,
            kind: alert.kind.clone(),
            subject: alert.subject.clone(),
            severity,
            status: IncidentStatus::Open,
            count: 1,
            first_at: alert.at,
            last_at: alert.at,
            recent_at: vec![kst_instant::Instant(alert.at)],
            acknowledged_by: None,
            acknowledged_at: None,
            resolved_by: None,
            resolved_at: None,
            version: 1,
        }
    }

    fn recent_times(&self) -> Vec<DateTime<Utc>> {
        self.recent_at.iter().map(|i| i.0).collect()
    }

    /// Whether a new alert joins this incident (rather than opening a new one).
    pub fn takes_alerts(&self) -> bool {
        self.status != IncidentStatus::Resolved
    }

    /// One more alert. Alerts may arrive out of order (queues redeliver), so times are kept
    /// sorted. Escalating to a page reopens an acknowledged incident: it got worse.
    pub fn record(&self, alert: &AlertFacts, rule: EscalationRule) -> Result<Incident, IncidentError> {
        if !self.takes_alerts() {
            return Err(IncidentError::NotAllowed { from: self.status.as_str(), action: "given more alerts" });
        }
        let mut times = self.recent_times();
        let at = times.partition_point(|t| *t <= alert.at);
        times.insert(at, alert.at);
        let drop = times.len().saturating_sub(rule.keep());
        times.drain(..drop);
        let escalated = self.severity == Severity::Warning && (alert.pages || rule.escalates(&times));
        Ok(Incident {
            severity: if escalated { Severity::Page } else { self.severity },
            status: if escalated { IncidentStatus::Open } else { self.status },
            count: self.count.saturating_add(1),
            first_at: self.first_at.min(alert.at),
            last_at: self.last_at.max(alert.at),
            recent_at: times.into_iter().map(kst_instant::Instant).collect(),
            version: self.version + 1,
            ..self.clone()
        })
    }

    pub fn acknowledge(&self, by: OperatorName, at: DateTime<Utc>) -> Result<Incident, IncidentError> {
        if self.status != IncidentStatus::Open {
            return Err(IncidentError::NotAllowed { from: self.status.as_str(), action: "acknowledged" });
        }
        Ok(Incident { status: IncidentStatus::Acknowledged, acknowledged_by: Some(by), acknowledged_at: Some(at), version: self.version + 1, ..self.clone() })
    }

    /// `by` is `None` when the alarm itself recovered.
    pub fn resolve(&self, by: Option<OperatorName>, at: DateTime<Utc>) -> Result<Incident, IncidentError> {
        if self.status == IncidentStatus::Resolved {
            return Err(IncidentError::NotAllowed { from: self.status.as_str(), action: "resolved" });
        }
        Ok(Incident { status: IncidentStatus::Resolved, resolved_by: by, resolved_at: Some(at), version: self.version + 1, ..self.clone() })
    }
}

/// What an alert channel posts: already worded, free of personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertMessage {
    pub severity: Severity,
    pub title: String,
    pub text: String,
}

impl AlertMessage {
    /// The message for an alert recorded on `incident`; `detail` says what happened.
    pub fn for_incident(incident: &Incident, detail: &str) -> AlertMessage {
        let level = match incident.severity {
            Severity::Page => "PAGE",
            Severity::Warning => "WARNING",
        };
        AlertMessage {
            severity: incident.severity,
            title: format!("[{level}] {} — {}", incident.kind, incident.subject),
            text: format!(
                "{detail}\nincident {} ({}, {} alert(s), first {}, last {})",
                incident.id,
                incident.status.as_str(),
                incident.count,
                super::time::to_kst_string(incident.first_at),
                super::time::to_kst_string(incident.last_at)
            ),
        }
    }

    /// The message that an incident was resolved (an alarm back to OK).
    pub fn resolved(incident: &Incident, detail: &str) -> AlertMessage {
        AlertMessage {
            severity: Severity::Warning,
            title: format!("[RESOLVED] {} — {}", incident.kind, incident.subject),
            text: format!("{detail}\nincident {} resolved after {} alert(s)", incident.id, incident.count),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule() -> EscalationRule {
        EscalationRule { after: 3, window: Duration::minutes(10) }
    }

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    fn alert(minutes: i64) -> AlertFacts {
        AlertFacts { kind: "webhook.dead_lettered".into(), subject: "mch_x".into(), at: t(minutes), pages: false }
    }

    fn replay(minutes: &[i64], rule: EscalationRule) -> Incident {
        let id: IncidentId = IncidentId::generate(t(0));
        let mut incident = Incident::open(id, &alert(minutes[0]), rule);
        for m in &minutes[1..] {
            incident = incident.record(&alert(*m), rule).unwrap();
        }
        incident
    }

    #[test]
    fn three_alerts_within_ten_minutes_page() {
        assert_eq!(replay(&[0, 4, 9], rule()).severity, Severity::Page);
    }

    #[test]
    fn three_alerts_spread_over_thirty_minutes_do_not() {
        assert_eq!(replay(&[0, 15, 30], rule()).severity, Severity::Warning);
    }

    #[test]
    fn the_window_slides_rather_than_restarting() {
        // 9 and 11 are within one window with 15; a window fixed at the first alert would miss it.
        assert_eq!(replay(&[0, 9, 11, 15], rule()).severity, Severity::Page);
    }

    #[test]
    fn a_resolved_incident_takes_no_more_alerts_and_cannot_be_acknowledged() {
        let name: OperatorName = "kim".parse().unwrap();
        let resolved = replay(&[0], rule()).resolve(Some(name.clone()), t(1)).unwrap();
        assert!(resolved.record(&alert(2), rule()).is_err());
        assert!(resolved.acknowledge(name, t(2)).is_err());
    }

    #[test]
    fn escalation_reopens_an_acknowledged_incident() {
        let acked = replay(&[0, 20], rule()).acknowledge("kim".parse().unwrap(), t(21)).unwrap();
        let next = acked.record(&alert(22), rule()).unwrap();
        assert_eq!(next.status, IncidentStatus::Acknowledged);
        let paged = next.record(&alert(23), rule()).unwrap();
        assert_eq!((paged.severity, paged.status), (Severity::Page, IncidentStatus::Open));
    }

    proptest! {
        #[test]
        fn pages_exactly_when_some_n_alerts_fall_within_the_window(
            mut minutes in proptest::collection::vec(0i64..120, 1..12),
            after in 1u32..5,
            window in 1i64..30,
        ) {
            // In arrival order; a late alert older than the newest ones is counted but judged
            // with them, not in the past.
            minutes.sort_unstable();
            let rule = EscalationRule { after, window: Duration::minutes(window) };
            let incident = replay(&minutes, rule);
            let n = after as usize;
            let expected = minutes.windows(n).any(|w| w[n - 1] - w[0] <= window);
            prop_assert_eq!(incident.severity == Severity::Page, expected);
        }

        #[test]
        fn count_is_the_number_of_alerts_and_versions_only_grow(minutes in proptest::collection::vec(0i64..120, 1..12)) {
            let incident = replay(&minutes, rule());
            prop_assert_eq!(incident.count as usize, minutes.len());
            prop_assert_eq!(incident.version as usize, minutes.len());
            prop_assert_eq!(incident.first_at, t(*minutes.iter().min().unwrap()));
            prop_assert_eq!(incident.last_at, t(*minutes.iter().max().unwrap()));
        }
    }
}
