//! Compiles `ui/main.slint` with the English translation bundled and with
//! debug info, so tests can find elements by their accessible labels.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_debug_info(true)
        .with_bundled_translations("lang")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    if let Err(e) = slint_build::compile_with_config("ui/main.slint", config) {
        eprintln!("cannot compile ui/main.slint: {e}");
        std::process::exit(1);
    }
}
