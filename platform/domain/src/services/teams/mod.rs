//! Teams: people a manager buys course seats for. A team belongs to no storefront (its seats
//! may come from several); whoever makes one is its first manager. Managers invite members by
//! the address they registered with, and nobody is in a team until they join; a member who
//! joined may be made a manager; anyone may leave. Only a team's managers see or change its
//! roster; everyone sees the teams they are in or invited to.
//!
//! Each active manager also holds the casbin grant `team_manager` in the team's domain,
//! written in the same transaction as the roster change: that grant is what lets them buy
//! and run the team's seats ([`seats`](crate::services::seats)).

mod roster;

pub use roster::{
    MemberStatus, Team, TeamMember, TeamName, TeamRole, create, invite, join, list_mine, members,
    remove_member, set_role,
};
