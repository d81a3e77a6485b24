//! Teams: people a manager buys course seats for. A team belongs to no storefront (its seats
//! may come from several); whoever makes one is its first manager. Managers invite others by
//! the address they registered with — as managers or members — and nobody is in a team until
//! they join; anyone may leave. Only a team's managers see or change its roster; everyone sees
//! the teams they are in or invited to.
//!
//! Seats — pools bought per course, assignments, invitations — grow on this (issue 12).

mod roster;

pub use roster::{
    MemberStatus, Team, TeamMember, TeamName, TeamRole, create, invite, join, list_mine, members,
    remove_member, set_role,
};
