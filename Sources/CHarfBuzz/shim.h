// The PDF writer's text path: fontconfig finds the font files, HarfBuzz shapes words and subsets
// the fonts it embeds, libdeflate compresses page contents.
#include <fontconfig/fontconfig.h>
#include <hb.h>
#include <hb-ot.h>
#include <hb-subset.h>
#include <libdeflate.h>
