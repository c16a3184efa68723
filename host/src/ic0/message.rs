//! Message arguments, caller and method name, acceptance, reject information and responses.

use super::memory_access::{copy_out, read};
use super::metering::enter;
use super::{fail, require, Api, C};
use crate::context::{Kind, Response};
use wasmi::errors::LinkerError;
use wasmi::Error;

pub(super) fn link(api: &mut Api<'_>) -> Result<(), LinkerError> {
    // --- message arguments and caller ---
    api.func("msg_arg_data_size", |mut c: C<'_>| -> Result<u32, Error> {
        enter(&mut c, "msg_arg_data_size")?;
        let kind = c.data().exec.kind;
        require(&mut c, "msg_arg_data_size", kind.has_arg())?;
        Ok(c.data().exec.arg.len() as u32)
    })?;
    api.func(
        "msg_arg_data_copy",
        |mut c: C<'_>, dst: u32, off: u32, size: u32| {
            enter(&mut c, "msg_arg_data_copy")?;
            let kind = c.data().exec.kind;
            require(&mut c, "msg_arg_data_copy", kind.has_arg())?;
            let arg = std::mem::take(&mut c.data_mut().exec.arg);
            let result = copy_out(&mut c, "msg_arg_data_copy", &arg, dst, off, size);
            c.data_mut().exec.arg = arg;
            result
        },
    )?;
    api.func("msg_caller_size", |mut c: C<'_>| -> Result<u32, Error> {
        enter(&mut c, "msg_caller_size")?;
        Ok(c.data().exec.caller.len() as u32)
    })?;
    api.func(
        "msg_caller_copy",
        |mut c: C<'_>, dst: u32, off: u32, size: u32| {
            enter(&mut c, "msg_caller_copy")?;
            let caller = c.data().exec.caller.clone();
            copy_out(&mut c, "msg_caller_copy", &caller, dst, off, size)
        },
    )?;
    api.func(
        "msg_method_name_size",
        |mut c: C<'_>| -> Result<u32, Error> {
            enter(&mut c, "msg_method_name_size")?;
            let kind = c.data().exec.kind;
            require(&mut c, "msg_method_name_size", kind == Kind::Inspect)?;
            Ok(c.data().exec.method.len() as u32)
        },
    )?;
    api.func(
        "msg_method_name_copy",
        |mut c: C<'_>, dst: u32, off: u32, size: u32| {
            enter(&mut c, "msg_method_name_copy")?;
            let kind = c.data().exec.kind;
            require(&mut c, "msg_method_name_copy", kind == Kind::Inspect)?;
            let name = c.data().exec.method.clone().into_bytes();
            copy_out(&mut c, "msg_method_name_copy", &name, dst, off, size)
        },
    )?;
    api.func("accept_message", |mut c: C<'_>| -> Result<(), Error> {
        enter(&mut c, "accept_message")?;
        let kind = c.data().exec.kind;
        require(&mut c, "accept_message", kind == Kind::Inspect)?;
        if c.data().exec.accepted {
            return Err(fail(
                &mut c,
                "ic0.accept_message: the message was already accepted",
            ));
        }
        c.data_mut().exec.accepted = true;
        Ok(())
    })?;
    api.func("msg_deadline", |mut c: C<'_>| -> Result<u64, Error> {
        enter(&mut c, "msg_deadline")?;
        Ok(c.data().exec.deadline)
    })?;

    // --- reject information in callbacks ---
    api.func("msg_reject_code", |mut c: C<'_>| -> Result<u32, Error> {
        enter(&mut c, "msg_reject_code")?;
        let kind = c.data().exec.kind;
        require(
            &mut c,
            "msg_reject_code",
            matches!(kind, Kind::ReplyCallback | Kind::RejectCallback),
        )?;
        Ok(c.data().exec.reject_code)
    })?;
    api.func(
        "msg_reject_msg_size",
        |mut c: C<'_>| -> Result<u32, Error> {
            enter(&mut c, "msg_reject_msg_size")?;
            let kind = c.data().exec.kind;
            require(&mut c, "msg_reject_msg_size", kind == Kind::RejectCallback)?;
            Ok(c.data().exec.reject_message.len() as u32)
        },
    )?;
    api.func(
        "msg_reject_msg_copy",
        |mut c: C<'_>, dst: u32, off: u32, size: u32| {
            enter(&mut c, "msg_reject_msg_copy")?;
            let kind = c.data().exec.kind;
            require(&mut c, "msg_reject_msg_copy", kind == Kind::RejectCallback)?;
            let message = c.data().exec.reject_message.clone().into_bytes();
            copy_out(&mut c, "msg_reject_msg_copy", &message, dst, off, size)
        },
    )?;

    // --- responding ---
    api.func(
        "msg_reply_data_append",
        |mut c: C<'_>, src: u32, size: u32| {
            enter(&mut c, "msg_reply_data_append")?;
            check_can_respond(&mut c, "msg_reply_data_append")?;
            reply_limit_check(&mut c, size as usize)?;
            let bytes = read(&mut c, src as u64, size as u64)?;
            c.data_mut().exec.reply_buf.extend_from_slice(&bytes);
            Ok(())
        },
    )?;
    api.func("msg_reply", |mut c: C<'_>| -> Result<(), Error> {
        enter(&mut c, "msg_reply")?;
        check_can_respond(&mut c, "msg_reply")?;
        let exec = &mut c.data_mut().exec;
        exec.response = Some(Response::Reply(std::mem::take(&mut exec.reply_buf)));
        Ok(())
    })?;
    api.func("msg_reject", |mut c: C<'_>, src: u32, size: u32| {
        enter(&mut c, "msg_reject")?;
        check_can_respond(&mut c, "msg_reject")?;
        let bytes = read(&mut c, src as u64, size as u64)?;
        c.data_mut().exec.response = Some(Response::Reject(
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
        Ok(())
    })?;
    Ok(())
}

fn reply_limit_check(caller: &mut C<'_>, extra: usize) -> Result<(), Error> {
    let exec = &caller.data().exec;
    let limit = exec.kind.reply_limit();
    let size = exec.reply_buf.len() + extra;
    if size > limit {
        return Err(fail(caller, format!("ic0.msg_reply_data_append: application payload size ({size}) cannot be larger than {limit}")));
    }
    Ok(())
}

fn check_can_respond(caller: &mut C<'_>, api: &str) -> Result<(), Error> {
    let kind = caller.data().exec.kind;
    require(caller, api, kind.may_respond())?;
    let exec = &caller.data().exec;
    if exec.already_responded || exec.response.is_some() {
        return Err(fail(
            caller,
            format!("ic0.{api}: the call was already answered"),
        ));
    }
    Ok(())
}
