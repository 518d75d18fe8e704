//! Code-point newtypes (RFC 7296 §3, IANA "IKEv2 Parameters").
//!
//! Every registry value on the wire is a newtype over its integer with named constants in IANA
//! spelling. Unknown values survive decoding and encoding unchanged; `Debug` and `Display` print the
//! registered name, or `Type(number)` for a value we do not know.

/// Declares a code-point newtype with named constants, `name()`, `Debug`, `Display` and conversions.
macro_rules! code_point {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($repr:ty);
        $( $(#[$cmeta:meta])* $constant:ident = $value:literal, )*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $repr);

        impl $name {
            $( $(#[$cmeta])* pub const $constant: Self = Self($value); )*

            /// The registered name of this value, or `None` for a value we do not know.
            #[must_use]
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($constant)), )*
                    _ => None,
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Debug::fmt(self, f)
            }
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                Self(value)
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}
