//! Where webhook deliveries may go (`DUBAN_WEBHOOK_ALLOWED_HOSTS`).
//!
//! A subscriber names the URL duban will POST to, so without a rule a unit could make the
//! server call its own admin ports, the database, or a cloud's metadata service. The rule:
//! addresses of the machine itself and of its link (loopback, link-local — the metadata
//! services among them —, unspecified, multicast, broadcast) are never called unless listed
//! by address; everything else is called when the list allows it. The list holds host names
//! (`hooks.city.gov.cn`, or `*.city.gov.cn` for any name under it), addresses and networks
//! (`10.20.0.0/16`, `fd00::/8`), and `*` for any host (the default). Intranet receivers on
//! private addresses are the common case and allowed by `*`.
//!
//! A name is checked when subscribed and again before each delivery; the addresses it resolves
//! to are checked when the worker connects, so a name that later points at the server itself
//! gets nothing.

use std::net::IpAddr;

/// The destinations a server delivers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destinations {
    /// `*`: any host not refused by address.
    any: bool,
    /// Host names allowed, lower case: exact, or a suffix starting with `.` (from `*.name`).
    names: Vec<String>,
    /// Networks allowed, these also when special.
    nets: Vec<Net>,
}

/// An address block: the address and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn parse(s: &str) -> Option<Net> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let written: IpAddr = bare(addr).parse().ok()?;
        let max = if written.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        let addr = canonical(written);
        // An IPv4 network written as IPv6 (`::ffff:10.0.0.0/104`): its prefix counts the 96
        // bits before the IPv4 address.
        let prefix = if written.is_ipv6() && addr.is_ipv4() {
            prefix.checked_sub(96)?
        } else {
            prefix
        };
        Some(Net { addr, prefix })
    }

    /// Parses one of the fixed blocks below.
    fn fixed(s: &str) -> Net {
        Net::parse(s).expect("a valid fixed block")
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let bits = 32 - u32::from(self.prefix.min(32));
                let mask = u32::MAX.checked_shl(bits).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let bits = 128 - u32::from(self.prefix.min(128));
                let mask = u128::MAX.checked_shl(bits).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    /// Whether `other` lies wholly inside this block.
    fn covers(&self, other: &Net) -> bool {
        other.prefix >= self.prefix && self.contains(other.addr)
    }
}

/// The IPv4 address an IPv6 address stands for, where it embeds one: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4
/// (`2002:aabb:ccdd::`); a connection to it reaches (or is relayed to) that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let s = v6.segments();
    let embedded = |hi: u16, lo: u16| {
        IpAddr::V4(std::net::Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        ))
    };
    match s {
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => ip,
        [0, 0, 0, 0, 0, 0, hi, lo] => embedded(hi, lo),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => embedded(hi, lo),
        [0x2002, hi, lo, ..] => embedded(hi, lo),
        _ => ip,
    }
}

/// The blocks never called unless listed, and why: the server's own and its link's
/// addresses, and the cloud metadata and host services that answer on fixed addresses.
const SPECIAL: &[(&str, &str)] = &[
    ("127.0.0.0/8", "a loopback address"),
    (
        "169.254.0.0/16",
        "a link-local address (where cloud metadata services answer)",
    ),
    ("0.0.0.0/8", "an address of this host (0.0.0.0/8)"),
    ("224.0.0.0/4", "a multicast address"),
    ("255.255.255.255", "the broadcast address"),
    ("100.100.100.200", "a cloud metadata service's address"),
    ("168.63.129.16", "a cloud host service's address"),
    ("::1", "a loopback address"),
    ("::", "the unspecified address"),
    ("fe80::/10", "a link-local address"),
    ("ff00::/8", "a multicast address"),
    ("fd00:ec2::254", "a cloud metadata service's address"),
];

static SPECIAL_NETS: std::sync::LazyLock<Vec<(Net, &'static str)>> =
    std::sync::LazyLock::new(|| {
        SPECIAL
            .iter()
            .map(|(n, why)| (Net::fixed(n), *why))
            .collect()
    });

/// The special block `ip` falls in, if any.
fn special_block(ip: IpAddr) -> Option<&'static (Net, &'static str)> {
    SPECIAL_NETS.iter().find(|(net, _)| net.contains(ip))
}

/// Why an address is never called unless listed: it is the server's own or its link's.
pub fn special(ip: IpAddr) -> Option<&'static str> {
    special_block(ip).map(|(_, why)| *why)
}

impl Default for Destinations {
    /// `*`: any host but the special addresses.
    fn default() -> Self {
        Destinations {
            any: true,
            names: Vec::new(),
            nets: Vec::new(),
        }
    }
}

impl Destinations {
    /// Parses the comma-separated list; the message names the entry that is not valid.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut d = Destinations {
            any: false,
            names: Vec::new(),
            nets: Vec::new(),
        };
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                d.any = true;
            } else if let Some(net) = Net::parse(entry) {
                d.nets.push(net);
            } else if let Some(name) = host_name(entry.strip_prefix('*').unwrap_or(entry)) {
                let suffix = entry.starts_with("*.");
                if entry.starts_with('*') && !suffix {
                    return Err(format!(
                        "`{entry}` is not a host, `*.` name, address or network"
                    ));
                }
                d.names.push(name);
            } else {
                return Err(format!(
                    "`{entry}` is not a host, `*.` name, address or network"
                ));
            }
        }
        if !d.any && d.names.is_empty() && d.nets.is_empty() {
            return Err("lists no destination (`*` allows any host)".into());
        }
        Ok(d)
    }

    /// The default of a demo, whose receivers run on the machine itself: `*` and loopback.
    pub fn demo() -> Self {
        let mut d = Destinations::default();
        d.nets.extend(["127.0.0.0/8", "::1"].map(Net::fixed));
        d
    }

    /// Whether a URL may name `host` (a name, or an address as written in the URL). A name
    /// allowed here is checked again by the addresses it resolves to ([`Self::check_addr`]).
    pub fn check_host(&self, host: &str) -> Result<(), String> {
        if let Ok(ip) = bare(host).parse::<IpAddr>() {
            return self.check_addr(host, ip);
        }
        let name = host.to_ascii_lowercase();
        let name = name.trim_end_matches('.');
        let listed = self.name_listed(name);
        if (name == "localhost" || name.ends_with(".localhost")) && !listed {
            return Err(format!("{host} is this server's own name"));
        }
        // A name not listed may still resolve into a listed network.
        if self.any || listed || !self.nets.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{host} is not among the hosts this server delivers to"
            ))
        }
    }

    /// Whether the worker may connect to `ip`, one of the addresses `host` resolves to (or
    /// `host` itself, written as an address).
    pub fn check_addr(&self, host: &str, ip: IpAddr) -> Result<(), String> {
        let listed = self.nets.iter().any(|n| n.contains(ip));
        // A special address is called only when listed within its own block (`127.0.0.1`),
        // never by a wide network that happens to hold it (`0.0.0.0/0`).
        let special = special_block(ip)
            .filter(|(block, _)| !self.nets.iter().any(|n| n.contains(ip) && block.covers(n)));
        if let Some((_, why)) = special {
            let shown = if bare(host) == ip.to_string() {
                ip.to_string()
            } else {
                format!("{host} ({ip})")
            };
            return Err(format!("{shown} is {why}, which this server does not call"));
        }
        let name = host.to_ascii_lowercase();
        if self.any || listed || self.name_listed(name.trim_end_matches('.')) {
            Ok(())
        } else {
            Err(format!(
                "{host} ({ip}) is not among the hosts this server delivers to"
            ))
        }
    }

    fn name_listed(&self, name: &str) -> bool {
        self.names.iter().any(|n| {
            if n.starts_with('.') {
                name.len() > n.len() && name.ends_with(n.as_str())
            } else {
                name == n
            }
        })
    }
}

/// A host as written in a URL, without the brackets of an IPv6 address (`[::1]` → `::1`).
pub fn bare(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// A host name in lower case, if `s` is one (letters, digits, `-`, `_` and dots); a leading
/// `.` (of `*.name`) is kept.
fn host_name(s: &str) -> Option<String> {
    let body = s.strip_prefix('.').unwrap_or(s);
    let ok = !body.is_empty()
        && body.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    ok.then(|| s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn by_default_any_host_but_the_servers_own_and_its_links() {
        let d = Destinations::default();
        for ok in [
            "hooks.city.gov.cn",
            "10.1.2.3",
            "192.168.0.9",
            "8.8.8.8",
            "fd00::1",
        ] {
            assert_eq!(d.check_host(ok), Ok(()), "{ok}");
        }
        for refused in [
            "127.0.0.1",
            "127.9.9.9",
            "[::1]",
            "::ffff:127.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "[::]",
            "fe80::1",
            "224.0.0.1",
            "255.255.255.255",
            "localhost",
            "LocalHost.",
            "x.localhost",
        ] {
            assert!(d.check_host(refused).is_err(), "{refused}");
        }
        // A public name that resolves to the server itself.
        let e = d.check_addr("evil.example", ip("127.0.0.1")).unwrap_err();
        assert!(
            e.contains("evil.example (127.0.0.1) is a loopback address"),
            "{e}"
        );
        assert_eq!(d.check_addr("hooks.example", ip("10.0.0.7")), Ok(()));
    }

    #[test]
    fn a_list_allows_its_names_suffixes_and_networks_only() {
        let d = Destinations::parse(" hooks.city.gov.cn, *.dept.example ,10.20.0.0/16,fd00::/8")
            .unwrap();
        assert_eq!(d.check_host("HOOKS.city.gov.cn"), Ok(()));
        assert_eq!(d.check_host("a.b.dept.example"), Ok(()));
        // Not listed: refused at the addresses it resolves to, outside the listed networks.
        assert!(d
            .check_addr("dept.example.evil", ip("203.0.113.5"))
            .is_err());
        assert_eq!(d.check_addr("x.dept.example", ip("203.0.113.5")), Ok(()));
        assert_eq!(d.check_host("10.20.3.4"), Ok(()));
        assert!(d.check_host("10.21.3.4").is_err());
        assert_eq!(d.check_host("[fd00::5]"), Ok(()));
        // A name not listed may resolve into a listed network: checked by address.
        assert_eq!(d.check_host("intra.example"), Ok(()));
        assert_eq!(d.check_addr("intra.example", ip("10.20.9.9")), Ok(()));
        assert!(d.check_addr("intra.example", ip("10.30.9.9")).is_err());
        // A listed name still may not resolve to a special address.
        assert!(d
            .check_addr("hooks.city.gov.cn", ip("169.254.169.254"))
            .is_err());
        let names_only = Destinations::parse("hooks.city.gov.cn,*.dept.example").unwrap();
        assert!(names_only.check_host("other.example").is_err());
        assert!(names_only.check_host("dept.example.evil").is_err());
        assert!(names_only.check_host("dept.example").is_err());
        assert!(names_only.check_host("10.20.3.4").is_err());
    }

    #[test]
    fn special_addresses_are_called_only_when_listed_by_address() {
        let d = Destinations::parse("*,127.0.0.1").unwrap();
        assert_eq!(d.check_host("127.0.0.1"), Ok(()));
        assert_eq!(d.check_addr("dev.example", ip("127.0.0.1")), Ok(()));
        assert!(d.check_host("127.0.0.2").is_err());
        assert!(d.check_host("[::1]").is_err());
        let demo = Destinations::demo();
        assert_eq!(demo.check_host("127.0.0.2"), Ok(()));
        assert_eq!(demo.check_host("[::1]"), Ok(()));
        assert!(demo.check_host("169.254.169.254").is_err());
        let named = Destinations::parse("localhost").unwrap();
        assert_eq!(named.check_host("localhost"), Ok(()));
        assert!(named.check_addr("localhost", ip("127.0.0.1")).is_err());
    }

    #[test]
    fn ipv6_forms_of_special_ipv4_addresses_and_cloud_services_are_refused() {
        let d = Destinations::default();
        for refused in [
            "::ffff:169.254.169.254",
            "::a9fe:a9fe",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::",
            "100.100.100.200",
            "168.63.129.16",
            "fd00:ec2::254",
        ] {
            assert!(d.check_host(refused).is_err(), "{refused}");
        }
        for ok in [
            "2001:db8::1",
            "64:ff9b::a14:7",
            "::ffff:10.20.0.7",
            "2002:a14:7::1",
        ] {
            assert_eq!(d.check_host(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn a_wide_network_listed_does_not_open_the_special_addresses_in_it() {
        for list in ["0.0.0.0/0", "::/0", "::ffff:0.0.0.0/96", "127.0.0.0/4"] {
            let d = Destinations::parse(list).unwrap();
            for special in ["127.0.0.1", "169.254.169.254", "::1"] {
                assert!(d.check_host(special).is_err(), "{list} opened {special}");
            }
        }
        // An IPv4 network written as IPv6 is that network, no wider.
        let mapped = Destinations::parse("hooks.example,::ffff:10.1.2.3").unwrap();
        assert_eq!(mapped.check_host("10.1.2.3"), Ok(()));
        for refused in ["10.1.2.4", "127.0.0.1", "169.254.169.254"] {
            assert!(mapped.check_host(refused).is_err(), "{refused}");
        }
        let block = Destinations::parse("::ffff:10.1.0.0/112").unwrap();
        assert_eq!(block.check_host("10.1.200.3"), Ok(()));
        assert!(block.check_host("10.2.0.1").is_err());
        assert!(Destinations::parse("::ffff:10.0.0.0/95").is_err());
    }

    #[test]
    fn a_list_that_is_not_valid_is_refused_naming_the_entry() {
        for bad in [
            "",
            " , ",
            "*x",
            "*.",
            "10.0.0.0/33",
            "a b",
            "http://x",
            "::1/129",
        ] {
            assert!(Destinations::parse(bad).is_err(), "{bad:?}");
        }
        let e = Destinations::parse("ok.example,bad host").unwrap_err();
        assert!(e.contains("`bad host`"), "{e}");
    }
}
