package gen

// Synthetic names for synthetic people. Combinations are random; any match
// with a real person is coincidence, and identity codes are always in the
// 900–999 test range.
var givenNames = []string{
	"Aino", "Eino", "Helmi", "Väinö", "Sofia", "Leo", "Olivia", "Onni", "Aada", "Elias",
	"Emma", "Oliver", "Lilja", "Eetu", "Venla", "Juho", "Iida", "Niilo", "Ella", "Toivo",
	"Saga", "Hugo", "Linnea", "Ilmari", "Kerttu", "Matias", "Pihla", "Aleksi", "Siiri", "Lauri",
}

var familyNames = []string{
	"Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
	"Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen", "Niemi",
	"Heikkilä", "Kinnunen", "Salonen", "Turunen", "Testinen", "Esimerkki",
}

var titles = []string{"sosiaalityöntekijä", "sosiaaliohjaaja", "perhetyöntekijä", "johtava sosiaalityöntekijä"}

var streets = []string{"Koivukuja", "Rantatie", "Myllytie", "Kirkkokatu", "Puistotie", "Harjutie"}
