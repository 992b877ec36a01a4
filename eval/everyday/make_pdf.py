"""Build eval/everyday/docs/lighthouses.pdf from the text below (needs fpdf2).

Run from the repository root:  python eval/everyday/make_pdf.py
The text uses only latin-1 characters because the PDF uses the core Helvetica font.
multi_cell wraps each paragraph, so sentences cross line breaks and page breaks.
"""

from pathlib import Path

from fpdf import FPDF

TITLE = "A Short History of Lighthouses"

# (heading or None, paragraph text)
SECTIONS = [
    (None,
     "Lighthouses are towers or other structures that carry a light to guide ships at "
     "night and to warn them of rocks, shoals and harbour entrances. For more than two "
     "thousand years they have marked dangerous coasts, and their story follows the growth "
     "of sea trade, of engineering and of the science of optics."),
    ("The Ancient World",
     "The most famous early lighthouse was the Pharos of Alexandria, built on the small "
     "island of Pharos at the entrance to the harbour of Alexandria in Egypt. It was begun "
     "under Ptolemy I Soter and completed around 280 BC during the reign of his son, "
     "Ptolemy II Philadelphus. The architect is usually named as Sostratus of Cnidus. "
     "Ancient writers describe a tower in three stages, square at the base, octagonal in "
     "the middle and round at the top, and modern estimates of its height range from 100 "
     "to 130 metres. A fire burned at its summit at night, and some accounts say that a "
     "great mirror reflected sunlight out to sea during the day. The tower was counted "
     "among the Seven Wonders of the Ancient World. A series of earthquakes between 956 "
     "and 1323 left it in ruins, and in 1480 the Mamluk sultan Qaitbay used its fallen "
     "stones to build a fortress on the same site."),
    (None,
     "The Romans built lighthouses across their empire, from Dover in Britain to the "
     "shores of the Black Sea. The best preserved is the Tower of Hercules near A Coruna "
     "in north-western Spain, which dates from the late first century AD. It was restored "
     "in 1791, stands about 55 metres tall and is still in service, which makes it the "
     "oldest working lighthouse in the world. It was declared a UNESCO World Heritage Site "
     "in 2009."),
    ("Building on the Rock",
     "Towers on land were relatively easy to build. The real challenge was to place a "
     "light on an isolated reef far out at sea. The Eddystone Rocks, about 14 miles "
     "south-west of Plymouth in England, wrecked so many ships that several attempts were "
     "made to mark them. The first tower, an ornate wooden structure designed by Henry "
     "Winstanley, was first lit on 14 November 1698. It was swept away in the Great Storm "
     "of November 1703, and Winstanley, who was on the rock carrying out repairs, died "
     "with it. A second tower, built by John Rudyerd from timber around a core of stone, "
     "was lit in 1709 and burned down in 1755."),
    (None,
     "The third Eddystone tower, completed by John Smeaton in 1759, changed lighthouse "
     "engineering. Smeaton modelled its curved profile on the trunk of an oak tree and cut "
     "the granite blocks so that they dovetailed into one another, both within each course "
     "and between one course and the next. He also developed a hydraulic lime that would "
     "set under water. His tower stood until the 1870s, when erosion of the rock beneath "
     "it caused concern. It was replaced in 1882 by a taller tower designed by James "
     "Douglass, and the upper part of Smeaton's tower was taken down and rebuilt on "
     "Plymouth Hoe, where it can still be visited."),
    (None,
     "Smeaton's methods were followed at the Bell Rock Lighthouse, built between 1807 and "
     "1810 on a reef 11 miles off the coast of Angus in Scotland. The engineer was Robert "
     "Stevenson, founder of a family that designed most of Scotland's lighthouses for more "
     "than a century. The Bell Rock is now the oldest surviving sea-washed lighthouse in "
     "the world. Robert Stevenson's grandson was the novelist Robert Louis Stevenson, who "
     "trained as an engineer before he turned to writing."),
    ("Lamps and Lenses",
     "Early lighthouses burned wood, coal or candles, and the light they gave was weak and "
     "smoky. In the 1780s the Swiss scientist Ami Argand invented an oil lamp with a "
     "hollow circular wick and a glass chimney, which burned far more brightly and with "
     "little smoke. Argand lamps were soon combined with polished metal reflectors shaped "
     "as parabolas, several of them mounted together in a single lantern."),
    (None,
     "The greatest advance came from the French physicist Augustin-Jean Fresnel. In 1822 "
     "he presented a lens built from concentric rings of glass prisms, which bent and "
     "gathered the light into a single powerful beam while using much less glass than a "
     "solid lens of the same size. The first Fresnel lens was installed in 1823 at the "
     "Cordouan Lighthouse at the mouth of the Gironde estuary in France. Fresnel lenses "
     "were graded by size into orders; the largest, the first-order lens, has a focal "
     "length of 920 millimetres and was used on major coastal lights, while the smaller "
     "orders served harbours and rivers. A first-order light could be seen more than 20 "
     "nautical miles away in clear weather."),
    (None,
     "To help sailors tell one light from another, each lighthouse was given its own "
     "character: a fixed light, or a particular pattern of flashes, colours and eclipses. "
     "In daylight the towers themselves served as daymarks. The Cape Hatteras Lighthouse "
     "in North Carolina, lit in 1870 and painted with a black and white spiral, is the "
     "tallest brick lighthouse in the United States at 198 feet. Threatened by the eroding "
     "shoreline, it was moved 2,900 feet inland in 1999."),
    ("Keepers and Authorities",
     "In England, Trinity House received a royal charter from Henry VIII in 1514 and later "
     "became the lighthouse authority for England and Wales. In the American colonies the "
     "first lighthouse was Boston Light on Little Brewster Island, lit in 1716. It was "
     "blown up by retreating British troops in 1776 and rebuilt in 1783. The United States "
     "Lighthouse Board was created in 1852 and replaced by the Lighthouse Service in 1910, "
     "and in 1939 the United States Coast Guard took over responsibility for the nation's "
     "lights."),
    (None,
     "For generations, lighthouse keepers lived at the stations, trimming wicks, winding "
     "the clockwork that turned the lenses and keeping logbooks of the weather. Their "
     "isolation gave rise to many stories, none more famous than that of the Flannan Isles "
     "in the Outer Hebrides. On 26 December 1900 the relief vessel Hesperus arrived to "
     "find the station empty; the three keepers, James Ducat, Thomas Marshall and Donald "
     "MacArthur, were never found."),
    (None,
     "Electric lighting, radio beacons and finally satellite navigation reduced the need "
     "for resident keepers, and automation spread through the twentieth century. The last "
     "manned lighthouse in the care of Trinity House, North Foreland in Kent, was "
     "automated in November 1998. In the same year Boston Light became the last American "
     "station to be automated, although Congress required that a keeper remain in "
     "residence there. Today many old towers survive as museums, holiday homes and "
     "landmarks, while their lights, often powered by solar panels and LED lamps, continue "
     "to guide ships along the coast."),
]


class _PDF(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "I", 9)
        self.cell(0, 10, f"Lighthouses - page {self.page_no()}", align="C")


def build(out: Path) -> None:
    pdf = _PDF(format="A4")
    pdf.set_margins(25, 25, 25)
    pdf.set_auto_page_break(True, margin=25)
    pdf.set_title(TITLE)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 10, TITLE)
    pdf.ln(4)
    for heading, text in SECTIONS:
        if heading:
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 14)
            pdf.multi_cell(0, 8, heading)
            pdf.ln(1)
        pdf.set_font("Helvetica", "", 12)
        pdf.multi_cell(0, 7, text)
        pdf.ln(3)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))


if __name__ == "__main__":
    build(Path(__file__).resolve().parent / "docs" / "lighthouses.pdf")
