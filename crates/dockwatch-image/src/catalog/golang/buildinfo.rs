//! The build information Go embeds in every binary since Go 1.13: the Go version and the module
//! list (`runtime/debug.BuildInfo`), behind a `\xff Go buildinf:` header.
//!
//! Hand-written: no maintained Rust crate reads it, and the format is two strings. Go 1.18+
//! stores them inline as varint-prefixed bytes; older toolchains store two pointers to Go string
//! headers, which need the executable's segments (read with `object`) to map to file offsets.

/// The header that starts the build info blob (16-byte aligned in the data section).
pub(crate) const MAGIC: &[u8] = b"\xff Go buildinf:";
/// The header length; the inline strings start right after it.
const HEADER_LEN: usize = 32;
/// Flag bit: the two strings follow the header inline (Go 1.18+).
const FLAG_INLINE: u8 = 0x2;
/// Flag bit: pointers are big-endian (pointer format only).
const FLAG_BIG_ENDIAN: u8 = 0x1;
/// The longest string read (module lists of huge programs are some tens of KiB).
const MAX_STRING: usize = 4 << 20;

/// What a Go binary says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuildInfo {
    /// `go1.22.1` (possibly followed by ` X:experiment`).
    pub go_version: String,
    /// The `runtime/debug` module text (`path`, `mod`, `dep`, `=>`, `build` lines).
    pub modinfo: String,
}

/// Finds and reads the build info of executable `data`; `Ok(None)` when it has none (not a Go
/// binary), `Err` when the header is there but what it points to is not.
pub(crate) fn read(data: &[u8]) -> Result<Option<BuildInfo>, String> {
    let Some(off) = find_header(data) else {
        return Ok(None);
    };
    let header = &data[off..];
    if header.len() < HEADER_LEN {
        return Err("truncated build info header".into());
    }
    let ptr_size = usize::from(header[14]);
    let flags = header[15];
    let (version, modinfo) = if flags & FLAG_INLINE != 0 {
        let (version, rest) = varint_string(&header[HEADER_LEN..])?;
        let (modinfo, _) = varint_string(rest)?;
        (version.to_vec(), modinfo.to_vec())
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return Err(format!("unsupported pointer size {ptr_size}"));
        }
        let big = flags & FLAG_BIG_ENDIAN != 0;
        let map = AddressMap::new(data)?;
        let version_addr = read_uint(&header[16..], ptr_size, big)?;
        let modinfo_addr = read_uint(&header[16 + ptr_size..], ptr_size, big)?;
        (
            map.go_string(version_addr, ptr_size, big)?,
            map.go_string(modinfo_addr, ptr_size, big)?,
        )
    };
    let go_version = String::from_utf8_lossy(&version).into_owned();
    Ok(Some(BuildInfo {
        go_version,
        modinfo: String::from_utf8_lossy(strip_sentinels(&modinfo)).into_owned(),
    }))
}

/// The offset of the 16-byte aligned header, if any. The Go linker puts it in a section of its
/// own (`.go.buildinfo`, `__go_buildinfo`; `.data` in PE files), so only that is searched when
/// the file has section headers, and an ELF or Mach-O file without the section is not Go:
/// executables are large and most are not Go. Anything else is searched whole.
fn find_header(data: &[u8]) -> Option<usize> {
    let (start, region) = region(data).unwrap_or((0, data));
    memchr::memmem::find_iter(region, MAGIC)
        .map(|off| start + off)
        .find(|off| off % 16 == 0)
}

/// The part of `data` that can hold the header: `Some((offset, bytes))`, `Some((0, &[]))` when
/// the file's sections say it is not a Go binary, `None` when they cannot say.
fn region(data: &[u8]) -> Option<(usize, &[u8])> {
    use object::{BinaryFormat, Object, ObjectSection};
    let file = object::File::parse(data).ok()?;
    let wanted: &[&str] = match file.format() {
        BinaryFormat::Pe => &[".data"],
        BinaryFormat::Elf | BinaryFormat::MachO => &[".go.buildinfo", "__go_buildinfo"],
        _ => return None,
    };
    file.sections().next()?;
    let Some(section) = file
        .sections()
        .find(|s| s.name().is_ok_and(|n| wanted.contains(&n)))
    else {
        return Some((0, &[]));
    };
    let (offset, size) = section.file_range()?;
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(size).ok()?)?;
    Some((start, data.get(start..end)?))
}

/// A string prefixed by its length as an unsigned LEB128 varint.
fn varint_string(data: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let mut len: u64 = 0;
    for (i, byte) in data.iter().enumerate().take(10) {
        len |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let len = usize::try_from(len).map_err(|_| "string length overflows")?;
            if len > MAX_STRING {
                return Err(format!("build info string of {len} bytes is too long"));
            }
            let rest = &data[i + 1..];
            if rest.len() < len {
                return Err("build info string runs past the end of the file".into());
            }
            return Ok((&rest[..len], &rest[len..]));
        }
    }
    Err("bad varint in build info".into())
}

fn read_uint(data: &[u8], size: usize, big: bool) -> Result<u64, String> {
    let bytes = data.get(..size).ok_or("truncated pointer")?;
    let mut buf = [0u8; 8];
    if big {
        buf[8 - size..].copy_from_slice(bytes);
        Ok(u64::from_be_bytes(buf))
    } else {
        buf[..size].copy_from_slice(bytes);
        Ok(u64::from_le_bytes(buf))
    }
}

/// Removes the 16-byte markers the linker puts around the module text.
pub(crate) fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    }
}

/// Virtual addresses to file offsets, from the executable's loadable segments.
struct AddressMap<'a> {
    data: &'a [u8],
    segments: Vec<(u64, u64, u64)>, // (address, file offset, file size)
}

impl<'a> AddressMap<'a> {
    fn new(data: &'a [u8]) -> Result<Self, String> {
        use object::{Object, ObjectSegment};
        let file = object::File::parse(data).map_err(|e| format!("unreadable executable: {e}"))?;
        let segments = file
            .segments()
            .map(|s| {
                let (offset, size) = s.file_range();
                (s.address(), offset, size)
            })
            .collect();
        Ok(Self { data, segments })
    }

    fn bytes(&self, addr: u64, len: u64) -> Result<&'a [u8], String> {
        for &(start, offset, size) in &self.segments {
            if addr >= start && addr.saturating_add(len) <= start.saturating_add(size) {
                let from = usize::try_from(offset + (addr - start)).map_err(|e| e.to_string())?;
                let len = usize::try_from(len).map_err(|e| e.to_string())?;
                return self
                    .data
                    .get(from..from.saturating_add(len))
                    .ok_or_else(|| format!("address {addr:#x} is outside the file"));
            }
        }
        Err(format!("address {addr:#x} is in no segment"))
    }

    /// A Go string header (`data pointer`, `length`) at `addr`, and the bytes it points to.
    fn go_string(&self, addr: u64, ptr_size: usize, big: bool) -> Result<Vec<u8>, String> {
        let header = self.bytes(addr, 2 * ptr_size as u64)?;
        let ptr = read_uint(header, ptr_size, big)?;
        let len = read_uint(&header[ptr_size..], ptr_size, big)?;
        if len > MAX_STRING as u64 {
            return Err(format!("build info string of {len} bytes is too long"));
        }
        Ok(self.bytes(ptr, len)?.to_vec())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The modinfo text as the linker writes it, between its sentinels.
    pub(crate) fn with_sentinels(text: &str) -> Vec<u8> {
        let mut v = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
        v.extend_from_slice(text.as_bytes());
        v.extend_from_slice(b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2");
        v
    }

    /// A Go 1.18+ build info blob (inline strings), 16-byte aligned inside `padding` bytes.
    pub(crate) fn inline_blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut v = vec![0u8; 48];
        v.extend_from_slice(MAGIC);
        v.extend_from_slice(&[8, FLAG_INLINE]);
        v.resize(48 + HEADER_LEN, 0);
        for s in [version.as_bytes().to_vec(), with_sentinels(modinfo)] {
            let mut len = s.len();
            loop {
                let byte = (len & 0x7f) as u8;
                len >>= 7;
                if len == 0 {
                    v.push(byte);
                    break;
                }
                v.push(byte | 0x80);
            }
            v.extend_from_slice(&s);
        }
        v
    }

    #[test]
    fn reads_the_inline_format() {
        let blob = inline_blob("go1.22.1", "path\tx\nmod\tx\t(devel)\t\n");
        let info = read(&blob).unwrap().unwrap();
        assert_eq!(info.go_version, "go1.22.1");
        assert_eq!(info.modinfo, "path\tx\nmod\tx\t(devel)\t\n");
    }

    #[test]
    fn reads_the_pointer_format_through_segments() {
        // One PT_LOAD segment maps the whole file at 0x400000.
        let base = 0x40_0000u64;
        let mut payload = vec![0u8; 8]; // keep the header 16-byte aligned after the ELF headers
        let header_at = 120 + payload.len();
        assert_eq!(header_at % 16, 0);
        payload.extend_from_slice(MAGIC);
        payload.extend_from_slice(&[8, 0]);
        let strings_at = header_at + HEADER_LEN;
        let version = b"go1.16.15";
        let modinfo = with_sentinels("path\tp\nmod\tp\tv1.0.0\t\n");
        let version_hdr = strings_at;
        let modinfo_hdr = strings_at + 16;
        let version_data = strings_at + 32;
        let modinfo_data = version_data + version.len();
        for addr in [version_hdr, modinfo_hdr] {
            payload.extend_from_slice(&(base + addr as u64).to_le_bytes());
        }
        payload.extend_from_slice(&(base + version_data as u64).to_le_bytes());
        payload.extend_from_slice(&(version.len() as u64).to_le_bytes());
        payload.extend_from_slice(&(base + modinfo_data as u64).to_le_bytes());
        payload.extend_from_slice(&(modinfo.len() as u64).to_le_bytes());
        payload.extend_from_slice(version);
        payload.extend_from_slice(&modinfo);
        let elf = crate::catalog::langpkg::testkit::elf64(base, &payload, &[]);
        let info = read(&elf).unwrap().unwrap();
        assert_eq!(info.go_version, "go1.16.15");
        assert_eq!(info.modinfo, "path\tp\nmod\tp\tv1.0.0\t\n");
    }

    #[test]
    fn hostile_lengths_and_addresses_are_errors() {
        let mut blob = vec![0u8; 16];
        blob.extend_from_slice(MAGIC);
        blob.extend_from_slice(&[8, FLAG_INLINE]);
        blob.resize(16 + HEADER_LEN, 0);
        blob.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(read(&blob).is_err());
        let mut ptr = vec![0u8; 16];
        ptr.extend_from_slice(MAGIC);
        ptr.extend_from_slice(&[8, 0]);
        ptr.resize(16 + HEADER_LEN, 0xee);
        assert!(read(&ptr).is_err(), "pointers into nothing");
        assert_eq!(read(b"no go here").unwrap(), None);
    }
}
