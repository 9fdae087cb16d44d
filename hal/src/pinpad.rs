//! PIN pads (密码键盘): the contract is written with the PIN pad driver
//! (issue 3).
