"""Choose a new password: first thing after a PI's reset, or whenever the account holder wants to."""

import streamlit as st

from coding_app import accounts
from coding_app.store import StoreUnavailable
from coding_app.web import runtime
from coding_app.web.identity import require

identity = require("coder", "fidelity", "pi")
forced = identity.account.must_change_password

st.title("Choose a new password" if forced else "Change my password")
if forced:
    st.info("The PI has reset your password. Choose a new one of your own to carry on: nothing else opens until then.")
with st.form("password", clear_on_submit=True, width=480):
    now_in_use = st.text_input(
        "Temporary password from the PI" if forced else "Current password",
        type="password",
        max_chars=accounts.MAX_PASSWORD_LENGTH,
    )
    new = st.text_input(
        "New password",
        type="password",
        max_chars=accounts.MAX_PASSWORD_LENGTH,
        placeholder=f"at least {accounts.MIN_PASSWORD_LENGTH} characters",
    )
    again = st.text_input("New password again", type="password", max_chars=accounts.MAX_PASSWORD_LENGTH)
    saved = st.form_submit_button("Save my new password", type="primary")
if saved:
    if new != again:
        st.error("The two new passwords are not the same: type the same one twice. Nothing was changed.")
        st.stop()
    try:
        accounts.change_password(runtime.store(), identity.account, now_in_use, new)
    except ValueError as refused:
        st.error(f"{str(refused)[0].upper()}{str(refused)[1:]}.")
        st.stop()
    except StoreUnavailable:
        st.error("The study database cannot be reached just now: nothing was changed. Try again in a moment.")
        st.stop()
    st.toast("Your new password is saved.")
    if forced:
        st.rerun()  # the app opens its pages again
    st.success("Your new password is saved. Use it the next time you sign in.")
