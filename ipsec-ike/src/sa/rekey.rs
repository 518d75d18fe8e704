//! CREATE_CHILD_SA (RFC 7296 §1.3): new CHILD SAs, CHILD SA rekey with or without PFS, IKE SA
//! rekey (§2.18) and rekey collisions (§2.8.1).

use alloc::boxed::Box;
use alloc::vec::Vec;

use ipsec_core::{Instant, Spi};

use super::{Ctx, IkeSa};
use crate::config::ChildConfigId;
use crate::endpoint::DatagramError;
use crate::event::ChildSaId;
use crate::message::{ExchangeType, Header, Notify, NotifyType, Payload};

/// Our CREATE_CHILD_SA request for a CHILD SA.
pub(crate) struct ChildRequest {
    /// Our new inbound SPI (reserved).
    pub(crate) spi: Spi,
    pub(crate) config: ChildConfigId,
    pub(crate) rekey_of: Option<ChildSaId>,
}

/// Our CREATE_CHILD_SA request rekeying the IKE SA.
pub(crate) struct IkeRekeyRequest {
    pub(crate) _todo: Vec<u8>,
}

impl IkeSa {
    pub(crate) fn respond_create_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        _now: Instant,
        header: &Header,
        _payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        let n = [Payload::Notify(Notify::new(NotifyType::NO_ADDITIONAL_SAS, &[]))];
        self.send_response(ctx, ExchangeType::CREATE_CHILD_SA, header.message_id, &n)
    }

    pub(crate) fn on_create_child_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        _now: Instant,
        req: ChildRequest,
        _payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        ctx.reg.child_spis.remove(&req.spi.0);
        Ok(())
    }

    pub(crate) fn on_rekey_ike_response(
        &mut self,
        _ctx: &mut Ctx<'_>,
        _now: Instant,
        _req: IkeRekeyRequest,
        _payloads: &[Payload<'_>],
    ) -> Result<(), DatagramError> {
        Ok(())
    }

    pub(crate) fn start_create_child(
        &mut self,
        _ctx: &mut Ctx<'_>,
        _now: Instant,
        _config: ChildConfigId,
        _rekey_of: Option<ChildSaId>,
    ) -> Result<(), DatagramError> {
        Ok(())
    }

    pub(crate) fn start_rekey_child(
        &mut self,
        _ctx: &mut Ctx<'_>,
        _now: Instant,
        _child: ChildSaId,
    ) -> Result<(), DatagramError> {
        Ok(())
    }

    pub(crate) fn start_rekey_ike(&mut self, _ctx: &mut Ctx<'_>, _now: Instant) -> Result<(), DatagramError> {
        Ok(())
    }

    /// CHILD SA rekey and expiry timers.
    pub(crate) fn child_timers(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let mut expired = Vec::new();
        for c in &mut self.children {
            if c.expire_at.is_some_and(|t| t <= now) {
                c.expire_at = None;
                expired.push(c.id);
            }
            if c.rekey_at.is_some_and(|t| t <= now) {
                c.rekey_at = None;
            }
        }
        for id in expired {
            self.remove_child(ctx, id, crate::event::DeleteReason::Expired);
        }
        let _ = Box::new(0);
    }
}
