//! The store for residents' images during one journey.
//!
//! Captured images (the face photo for 人证核验, photographed materials)
//! live here from capture until the journey submits them, and no longer:
//!
//! - Every image is sealed with SM4-GCM (GB/T 32907, the national block
//!   cipher, in Galois/counter mode) under a key made at random when the
//!   store is opened. The key exists only in this process's memory and
//!   is zeroed when the store is wiped or dropped.
//! - Face photos are kept in memory only, sealed; they are never written
//!   to disk, not even encrypted.
//! - Document images may spill to a temporary directory (a material set
//!   of many A4 pages should not pin the kiosk's memory); there they are
//!   ciphertext under random file names, and useless once the key is gone.
//! - [`ImageStore::wipe`] (called when the journey ends, and on drop)
//!   overwrites and deletes the files and zeroes every buffer.
//!
//! Plaintext handed out by [`ImageStore::get`] is wrapped in
//! [`Zeroizing`] so it is wiped when the caller drops it.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{AesGcm, Nonce};
use rand::RngCore;
use sm4::Sm4;
use sm4::cipher::consts::U12;
use zeroize::Zeroize;
pub use zeroize::Zeroizing;

type Sm4Gcm = AesGcm<Sm4, U12>;

/// What an image shows; it decides where the image may be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// The resident's face: sensitive personal information under PIPL;
    /// memory only.
    Face,
    /// A photographed material (ID copy, certificate, form).
    Document,
}

/// A handle to one stored image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageId(u64);

/// Store errors, Chinese first.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("图像不存在或已清除 / no such image (it may have been wiped)")]
    NotFound,
    #[error("图像已损坏,请重新拍摄 / the stored image is damaged; please capture it again")]
    Damaged,
    #[error("临时存储不可用:{0} / temporary store unavailable: {0}")]
    Io(String),
}

enum Place {
    Memory(Vec<u8>),
    File(PathBuf),
}

struct Entry {
    id: ImageId,
    kind: ImageKind,
    label: String,
    nonce: [u8; 12],
    place: Place,
}

/// Sealed images of one journey. See the module documentation.
pub struct ImageStore {
    key: Zeroizing<[u8; 16]>,
    dir: Option<PathBuf>,
    entries: Vec<Entry>,
    next: u64,
}

impl fmt::Debug for ImageStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key, never the contents.
        f.debug_struct("ImageStore")
            .field("images", &self.entries.len())
            .field("dir", &self.dir)
            .finish()
    }
}

impl ImageStore {
    /// A store that keeps everything in memory.
    pub fn in_memory() -> Self {
        let mut key = Zeroizing::new([0u8; 16]);
        rand::rng().fill_bytes(key.as_mut());
        Self {
            key,
            dir: None,
            entries: Vec::new(),
            next: 1,
        }
    }

    /// A store that may spill document images, encrypted, into `dir`
    /// (created with mode 0700 if missing). Leftover files from a killed
    /// process are deleted: their key died with it.
    pub fn with_spill_dir(dir: &Path) -> Result<Self, StoreError> {
        fs::create_dir_all(dir).map_err(|e| StoreError::Io(e.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| StoreError::Io(e.to_string()))?;
        }
        let leftovers = fs::read_dir(dir).map_err(|e| StoreError::Io(e.to_string()))?;
        for entry in leftovers.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "sealed") {
                let _ = fs::remove_file(&path);
            }
        }
        let mut store = Self::in_memory();
        store.dir = Some(dir.to_path_buf());
        Ok(store)
    }

    fn cipher(&self) -> Result<Sm4Gcm, StoreError> {
        Sm4Gcm::new_from_slice(self.key.as_ref()).map_err(|_| StoreError::Damaged)
    }

    /// Seals and keeps `image`; the plaintext buffer is zeroed.
    pub fn put(
        &mut self,
        kind: ImageKind,
        label: &str,
        image: Vec<u8>,
    ) -> Result<ImageId, StoreError> {
        let plain = Zeroizing::new(image);
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()?
            .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
            .map_err(|_| StoreError::Damaged)?;
        let id = ImageId(self.next);
        self.next += 1;
        let place = match (&self.dir, kind) {
            (Some(dir), ImageKind::Document) => {
                let mut name = [0u8; 12];
                rand::rng().fill_bytes(&mut name);
                let path = dir.join(format!("{}.sealed", hex_name(&name)));
                write_private(&path, &sealed)?;
                Place::File(path)
            }
            _ => Place::Memory(sealed),
        };
        self.entries.push(Entry {
            id,
            kind,
            label: label.to_string(),
            nonce,
            place,
        });
        Ok(id)
    }

    /// The image, decrypted; wiped when the returned value is dropped.
    pub fn get(&self, id: ImageId) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.id == id)
            .ok_or(StoreError::NotFound)?;
        let sealed = match &entry.place {
            Place::Memory(b) => b.clone(),
            Place::File(p) => fs::read(p).map_err(|_| StoreError::Damaged)?,
        };
        self.cipher()?
            .decrypt(Nonce::from_slice(&entry.nonce), sealed.as_slice())
            .map(Zeroizing::new)
            .map_err(|_| StoreError::Damaged)
    }

    /// The stored images in capture order: id, kind and label.
    pub fn list(&self) -> Vec<(ImageId, ImageKind, String)> {
        self.entries
            .iter()
            .map(|e| (e.id, e.kind, e.label.clone()))
            .collect()
    }

    /// How many images are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets one image (the resident retook it).
    pub fn remove(&mut self, id: ImageId) -> Result<(), StoreError> {
        let pos = self
            .entries
            .iter()
            .position(|e| e.id == id)
            .ok_or(StoreError::NotFound)?;
        let entry = self.entries.remove(pos);
        destroy(entry);
        Ok(())
    }

    /// Ends the journey's images: every file overwritten and deleted,
    /// every buffer zeroed, and a new key, so nothing sealed before can
    /// be opened again.
    pub fn wipe(&mut self) {
        for entry in self.entries.drain(..) {
            destroy(entry);
        }
        self.key.zeroize();
        rand::rng().fill_bytes(self.key.as_mut());
    }
}

impl Drop for ImageStore {
    fn drop(&mut self) {
        self.wipe();
        self.key.zeroize();
    }
}

fn destroy(entry: Entry) {
    match entry.place {
        Place::Memory(mut b) => b.zeroize(),
        Place::File(p) => {
            if let Ok(meta) = fs::metadata(&p)
                && let Ok(mut f) = fs::OpenOptions::new().write(true).open(&p)
            {
                let zeros = vec![0u8; usize::try_from(meta.len()).unwrap_or(0)];
                let _ = f.write_all(&zeros);
                let _ = f.sync_data();
            }
            let _ = fs::remove_file(&p);
        }
    }
}

fn hex_name(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| StoreError::Io(e.to_string()))?;
    f.write_all(bytes)
        .map_err(|e| StoreError::Io(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;

    const FACE: &[u8] = b"FACE-PHOTO-OF-ZHANG-WEI-110101199003077777";

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    fn files(dir: &Path) -> Vec<PathBuf> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    #[test]
    fn a_face_photo_never_reaches_the_disk() {
        let dir = tempdir("face");
        let mut store = ImageStore::with_spill_dir(&dir).unwrap();
        let id = store
            .put(ImageKind::Face, "现场人像", FACE.to_vec())
            .unwrap();
        assert!(files(&dir).is_empty(), "face photo written to disk");
        assert_eq!(store.get(id).unwrap().as_slice(), FACE);
        // Sealed in memory too: the store's own bytes are not the photo.
        let Place::Memory(sealed) = &store.entries[0].place else {
            panic!("face spilled")
        };
        assert!(!contains(sealed, b"ZHANG-WEI"));
    }

    #[test]
    fn documents_spill_as_ciphertext_and_wipe_deletes_them() {
        let dir = tempdir("doc");
        let mut store = ImageStore::with_spill_dir(&dir).unwrap();
        let page = b"HOUSEHOLD-REGISTER-PAGE 110101199003077777".repeat(100);
        let id = store
            .put(ImageKind::Document, "户口簿", page.clone())
            .unwrap();
        let on_disk = files(&dir);
        assert_eq!(on_disk.len(), 1);
        let bytes = fs::read(&on_disk[0]).unwrap();
        assert!(
            !contains(&bytes, b"110101199003077777"),
            "plaintext on disk"
        );
        assert_eq!(store.get(id).unwrap().as_slice(), page.as_slice());
        store.wipe();
        assert!(files(&dir).is_empty(), "wipe left files");
        assert_eq!(store.get(id), Err(StoreError::NotFound));
        assert!(store.is_empty());
    }

    #[test]
    fn a_file_sealed_under_an_old_key_cannot_be_opened_after_wipe() {
        let dir = tempdir("oldkey");
        let mut store = ImageStore::with_spill_dir(&dir).unwrap();
        let id = store
            .put(ImageKind::Document, "证明", b"secret page".to_vec())
            .unwrap();
        let sealed = fs::read(&files(&dir)[0]).unwrap();
        let nonce = store.entries[0].nonce;
        store.wipe();
        // Whoever copied the file before the wipe still cannot read it.
        let reopened = store
            .cipher()
            .unwrap()
            .decrypt(Nonce::from_slice(&nonce), sealed.as_slice());
        assert!(reopened.is_err());
        assert_eq!(store.get(id), Err(StoreError::NotFound));
    }

    #[test]
    fn a_tampered_file_is_reported_damaged_not_returned() {
        let dir = tempdir("tamper");
        let mut store = ImageStore::with_spill_dir(&dir).unwrap();
        let id = store
            .put(ImageKind::Document, "申请表", vec![7u8; 4096])
            .unwrap();
        let path = files(&dir).remove(0);
        let mut bytes = fs::read(&path).unwrap();
        bytes[100] ^= 0x55;
        fs::write(&path, bytes).unwrap();
        assert_eq!(store.get(id), Err(StoreError::Damaged));
        assert!(StoreError::Damaged.to_string().starts_with("图像已损坏"));
    }

    #[test]
    fn dropping_the_store_wipes_and_leftovers_of_a_killed_process_are_cleared() {
        let dir = tempdir("drop");
        {
            let mut store = ImageStore::with_spill_dir(&dir).unwrap();
            store.put(ImageKind::Document, "a", vec![1; 10]).unwrap();
            store.put(ImageKind::Document, "b", vec![2; 10]).unwrap();
            assert_eq!(files(&dir).len(), 2);
        }
        assert!(files(&dir).is_empty());
        // A killed kiosk leaves sealed files behind; the next store clears them.
        fs::write(dir.join("deadbeef.sealed"), b"x").unwrap();
        let _store = ImageStore::with_spill_dir(&dir).unwrap();
        assert!(files(&dir).is_empty());
    }

    #[test]
    fn remove_and_list_keep_capture_order() {
        let mut store = ImageStore::in_memory();
        let a = store.put(ImageKind::Document, "第1页", vec![1]).unwrap();
        let b = store.put(ImageKind::Document, "第2页", vec![2]).unwrap();
        let c = store.put(ImageKind::Face, "人像", vec![3]).unwrap();
        store.remove(b).unwrap();
        let labels: Vec<_> = store.list().into_iter().map(|(_, _, l)| l).collect();
        assert_eq!(labels, ["第1页", "人像"]);
        assert_eq!(store.get(a).unwrap().as_slice(), [1]);
        assert_eq!(store.get(c).unwrap().as_slice(), [3]);
        assert_eq!(store.remove(b), Err(StoreError::NotFound));
        assert!(!format!("{store:?}").contains("key"));
    }

    fn tempdir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "imaging-store-{tag}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }
}
