//! Rules (SPEC §7.3): list, define, change, delete, their runs, a dry run and an apply.

use sheaf_proto::requests::{RuleBody, RulePatchBody, RuleRunParams, RuleTestParams};
use sheaf_proto::resources::Rule;
use sheaf_proto::responses::{RuleList, RuleRunList, RuleTest};
use sheaf_proto::routes;

use crate::{Client, Error};

impl Client {
    /// `GET /v1/rules`: every rule with where it stands.
    pub async fn rules(&self) -> Result<RuleList, Error> {
        self.get(&routes::LIST_RULES, &[]).await
    }

    /// `POST /v1/rules`: defines a rule; it acts on what happens from now on.
    pub async fn create_rule(&self, body: &RuleBody) -> Result<Rule, Error> {
        self.send(&routes::CREATE_RULE, &[], body).await
    }

    /// `GET /v1/rules/{rid}`.
    pub async fn rule(&self, rid: &str) -> Result<Rule, Error> {
        self.get(&routes::GET_RULE, &[rid]).await
    }

    /// `PATCH /v1/rules/{rid}`: the fields given replace the rule's; `null` removes one.
    pub async fn update_rule(&self, rid: &str, body: &RulePatchBody) -> Result<Rule, Error> {
        self.send(&routes::UPDATE_RULE, &[rid], body).await
    }

    /// `DELETE /v1/rules/{rid}`: answers the rule as it was.
    pub async fn delete_rule(&self, rid: &str) -> Result<Rule, Error> {
        self.get(&routes::DELETE_RULE, &[rid]).await
    }

    /// `GET /v1/rules/{rid}/runs`: newest first.
    pub async fn rule_runs(&self, rid: &str, limit: Option<usize>) -> Result<RuleRunList, Error> {
        self.get_query(&routes::LIST_RULE_RUNS, &[rid], &RuleRunParams { limit })
            .await
    }

    /// `POST /v1/rules/{rid}/test`: which existing items match and what would be done.
    pub async fn test_rule(&self, rid: &str, limit: Option<usize>) -> Result<RuleTest, Error> {
        self.get_query(&routes::TEST_RULE, &[rid], &RuleTestParams { limit })
            .await
    }

    /// `POST /v1/rules/{rid}/apply`: starts running the rule over the existing items; the
    /// rule answered carries the apply's progress (poll [`Client::rule`] for more).
    pub async fn apply_rule(&self, rid: &str) -> Result<Rule, Error> {
        self.get(&routes::APPLY_RULE, &[rid]).await
    }
}
