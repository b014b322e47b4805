"""Say what every generated image is: IPTC digital source type in XMP."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
# The studio renderer's output: the person's own photograph composited onto a
# generated backdrop and relit by algorithm ("composite including synthetic elements").
COMPOSITE_SYNTHETIC = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic"


def xmp_packet(
    *, digital_source_type: str, generator: str, preset: str, preset_version: int, seed: int
) -> bytes:
    description = (
        f"Professional headshot made by {generator} with brand preset {preset} "
        f"version {preset_version} (seed {seed})."
    )
    xml = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:hs="https://headshots-portal.invalid/ns/1.0/"
    Iptc4xmpExt:DigitalSourceType={quoteattr(digital_source_type)}
    xmp:CreatorTool={quoteattr(generator)}
    hs:preset={quoteattr(preset)}
    hs:presetVersion="{int(preset_version)}"
    hs:seed="{int(seed)}">
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(description)}</rdf:li></rdf:Alt></dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return xml.encode("utf-8")


def read_digital_source_type(xmp: bytes | str) -> str | None:
    text = xmp.decode("utf-8") if isinstance(xmp, bytes) else xmp
    marker = 'Iptc4xmpExt:DigitalSourceType="'
    start = text.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return text[start : text.index('"', start)]
