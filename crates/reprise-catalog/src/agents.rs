//! Agents: `reprise agent` on other hosts, what the server last heard from each, and
//! the work it hands them (backups, restores, drills) until they report back.

use jiff::Timestamp;
use serde::Serialize;

/// What the server knows of one enrolled host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentRecord {
    pub host: String,
    pub enrolled: Timestamp,
    /// The agent's last check-in, its version and the address it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// Where a job handed to an agent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Queued; the agent takes it at its next check-in.
    Waiting,
    /// Taken by the agent, which has not reported yet.
    Running,
    Succeeded,
    /// The agent reported a failure, or the job's deadline passed.
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Waiting => "waiting",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "waiting" => JobState::Waiting,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            _ => return None,
        })
    }

    /// Waiting or running: not finished yet.
    pub fn is_open(self) -> bool {
        matches!(self, JobState::Waiting | JobState::Running)
    }
}

/// A job to queue for an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAgentJob {
    pub host: String,
    /// `backup`, `restore` or `drill`.
    pub kind: String,
    /// The asset it concerns.
    pub asset: String,
    /// What to do, as JSON the agent reads.
    pub spec: String,
    pub created: Timestamp,
    /// When a job still waiting or running fails for want of an answer.
    pub deadline: Timestamp,
}

/// A job handed to an agent, as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentJob {
    pub id: i64,
    pub host: String,
    pub kind: String,
    pub asset: String,
    pub spec: String,
    pub created: Timestamp,
    pub deadline: Timestamp,
    pub state: JobState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<Timestamp>,
    /// The agent's report (JSON), or why the job failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}
