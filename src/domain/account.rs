//! Rules for account names, display names and passwords.

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;
/// The longest password accepted (argon2 hashes anything, but a bound stops abuse).
pub const MAX_PASSWORD_LEN: usize = 256;

/// A login name: 3 to 64 characters of ASCII letters, digits, `.`, `_`, `-` or `@`, stored in
/// lower case so that `Alice` and `alice` are one account.
pub fn parse_username(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim().to_ascii_lowercase();
    let ok_len = (3..=64).contains(&name.len());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok_len && ok_chars {
        Ok(name)
    } else {
        Err("must be 3 to 64 characters: letters, digits, '.', '_', '-' or '@'")
    }
}

/// A display name: 1 to 100 characters after trimming.
pub fn parse_display_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if (1..=100).contains(&name.chars().count()) {
        Ok(name.to_owned())
    } else {
        Err("must be 1 to 100 characters")
    }
}

/// Checks a new password: 12 to 256 characters, not all one character, not the username.
pub fn check_password(password: &str, username: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err("must be at least 12 characters");
    }
    if n > MAX_PASSWORD_LEN {
        return Err("must be at most 256 characters");
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err("must not repeat one character");
    }
    if password.eq_ignore_ascii_case(username) {
        return Err("must not be the username");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_case_and_bounded() {
        assert_eq!(parse_username(" Alice ").unwrap(), "alice");
        assert!(parse_username("ab").is_err());
        assert!(parse_username("has space").is_err());
        assert!(parse_username("张三").is_err());
        assert_eq!(parse_username("ipo-system@cq").unwrap(), "ipo-system@cq");
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_password("short", "bob").is_err());
        assert!(check_password("aaaaaaaaaaaaaaa", "bob").is_err());
        assert!(check_password("bob.the.builder", "bob.the.builder").is_err());
        assert!(check_password("correct horse battery", "bob").is_ok());
    }
}
