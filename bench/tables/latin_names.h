/*
 * Latin-script name and address tables of gen_customers: common English
 * and European given names and surnames, nicknames, and towns of the
 * United States and the United Kingdom. Written for this generator from
 * general knowledge; the order is roughly most common first.
 */
#ifndef GEN_LATIN_NAMES_H
#define GEN_LATIN_NAMES_H

static const char *const gen_latin_given_male[] = {
    "James",    "John",      "Robert",   "Michael",  "William",     "David",
    "Richard",  "Joseph",    "Thomas",   "Charles",  "Christopher", "Daniel",
    "Matthew",  "Anthony",   "Mark",     "Donald",   "Steven",      "Paul",
    "Andrew",   "Joshua",    "Kenneth",  "Kevin",    "Brian",       "George",
    "Timothy",  "Ronald",    "Edward",   "Jason",    "Jeffrey",     "Ryan",
    "Jacob",    "Gary",      "Nicholas", "Eric",     "Jonathan",    "Stephen",
    "Larry",    "Justin",    "Scott",    "Brandon",  "Benjamin",    "Samuel",
    "Gregory",  "Alexander", "Frank",    "Patrick",  "Raymond",     "Jack",
    "Dennis",   "Jerry",     "Tyler",    "Aaron",    "Jose",        "Adam",
    "Nathan",   "Henry",     "Douglas",  "Zachary",  "Peter",       "Kyle",
    "Noah",     "Ethan",     "Jeremy",   "Walter",   "Christian",   "Keith",
    "Roger",    "Terry",     "Austin",   "Sean",     "Gerald",      "Carl",
    "Harold",   "Dylan",     "Arthur",   "Lawrence", "Jordan",      "Jesse",
    "Bryan",    "Billy",     "Bruce",    "Gabriel",  "Joe",         "Logan",
    "Alan",     "Juan",      "Albert",   "Willie",   "Elijah",      "Wayne",
    "Randy",    "Vincent",   "Mason",    "Roy",      "Ralph",       "Bobby",
    "Russell",  "Bradley",   "Philip",   "Eugene",   "Oliver",      "Harry",
    "Charlie",  "Oscar",     "Leo",      "Archie",   "Alfie",       "Freddie",
    "Theodore", "Frederick", "Hugo",     "Lucas",    "Luca",        "Matteo",
    "Marco",    "Giovanni",  "Pierre",   "Louis",    "Antoine",     "Hans",
    "Klaus",    "Stefan",    "Lars",     "Sven",     "Pablo",       "Carlos",
    "Miguel",   "Diego",     "Mateo",    "Liam",     "Connor",      "Callum",
    "Owen",     "Rhys",      "Ewan",     "Angus",    "Declan",
};

static const char *const gen_latin_given_female[] = {
    "Mary",      "Patricia",  "Jennifer",   "Linda",     "Elizabeth",
    "Barbara",   "Susan",     "Jessica",    "Sarah",     "Karen",
    "Lisa",      "Nancy",     "Betty",      "Margaret",  "Sandra",
    "Ashley",    "Kimberly",  "Emily",      "Donna",     "Michelle",
    "Carol",     "Amanda",    "Dorothy",    "Melissa",   "Deborah",
    "Stephanie", "Rebecca",   "Sharon",     "Laura",     "Cynthia",
    "Kathleen",  "Amy",       "Angela",     "Shirley",   "Anna",
    "Brenda",    "Pamela",    "Emma",       "Nicole",    "Helen",
    "Samantha",  "Katherine", "Christine",  "Debra",     "Rachel",
    "Carolyn",   "Janet",     "Catherine",  "Maria",     "Heather",
    "Diane",     "Ruth",      "Julie",      "Olivia",    "Joyce",
    "Virginia",  "Victoria",  "Kelly",      "Lauren",    "Christina",
    "Joan",      "Evelyn",    "Judith",     "Megan",     "Andrea",
    "Cheryl",    "Hannah",    "Jacqueline", "Martha",    "Gloria",
    "Teresa",    "Ann",       "Sara",       "Madison",   "Frances",
    "Kathryn",   "Janice",    "Jean",       "Abigail",   "Alice",
    "Judy",      "Sophia",    "Grace",      "Denise",    "Amber",
    "Doris",     "Marilyn",   "Danielle",   "Beverly",   "Isabella",
    "Theresa",   "Diana",     "Natalie",    "Brittany",  "Charlotte",
    "Marie",     "Kayla",     "Alexis",     "Lori",      "Amelia",
    "Isla",      "Ava",       "Mia",        "Ivy",       "Freya",
    "Poppy",     "Florence",  "Eleanor",    "Alexandra", "Josephine",
    "Sophie",    "Chloe",     "Lucy",       "Ella",      "Ruby",
    "Evie",      "Giulia",    "Francesca",  "Chiara",    "Sofia",
    "Camille",   "Claire",    "Anne",       "Ingrid",    "Astrid",
    "Greta",     "Heidi",     "Lucia",      "Carmen",    "Elena",
    "Isabel",    "Siobhan",   "Aoife",      "Niamh",     "Fiona",
    "Morag",     "Eilidh",
};

static const char *const gen_latin_surnames[] = {
    "Smith",     "Johnson",   "Williams",  "Brown",     "Jones",
    "Garcia",    "Miller",    "Davis",     "Rodriguez", "Martinez",
    "Hernandez", "Lopez",     "Gonzalez",  "Wilson",    "Anderson",
    "Thomas",    "Taylor",    "Moore",     "Jackson",   "Martin",
    "Lee",       "Perez",     "Thompson",  "White",     "Harris",
    "Sanchez",   "Clark",     "Ramirez",   "Lewis",     "Robinson",
    "Walker",    "Young",     "Allen",     "King",      "Wright",
    "Scott",     "Torres",    "Nguyen",    "Hill",      "Flores",
    "Green",     "Adams",     "Nelson",    "Baker",     "Hall",
    "Rivera",    "Campbell",  "Mitchell",  "Carter",    "Roberts",
    "Gomez",     "Phillips",  "Evans",     "Turner",    "Diaz",
    "Parker",    "Cruz",      "Edwards",   "Collins",   "Reyes",
    "Stewart",   "Morris",    "Morales",   "Murphy",    "Cook",
    "Rogers",    "Gutierrez", "Ortiz",     "Morgan",    "Cooper",
    "Peterson",  "Bailey",    "Reed",      "Kelly",     "Howard",
    "Ramos",     "Kim",       "Cox",       "Ward",      "Richardson",
    "Watson",    "Brooks",    "Chavez",    "Wood",      "James",
    "Bennett",   "Gray",      "Mendoza",   "Ruiz",      "Hughes",
    "Price",     "Alvarez",   "Castillo",  "Sanders",   "Patel",
    "Myers",     "Long",      "Ross",      "Foster",    "Jimenez",
    "Powell",    "Jenkins",   "Perry",     "Russell",   "Sullivan",
    "Bell",      "Coleman",   "Butler",    "Henderson", "Barnes",
    "Gonzales",  "Fisher",    "Vasquez",   "Simmons",   "Romero",
    "Jordan",    "Patterson", "Alexander", "Hamilton",  "Graham",
    "Reynolds",  "Griffin",   "Wallace",   "Moreno",    "West",
    "Cole",      "Hayes",     "Bryant",    "Herrera",   "Gibson",
    "Ellis",     "Tran",      "Medina",    "Aguilar",   "Stevens",
    "Murray",    "Ford",      "Castro",    "Marshall",  "Owens",
    "Harrison",  "Fernandez", "McDonald",  "Woods",     "Washington",
    "Kennedy",   "Wells",     "Vargas",    "Henry",     "Chen",
    "Freeman",   "Webb",      "Tucker",    "Guzman",    "Burns",
    "Crawford",  "Olson",     "Simpson",   "Porter",    "Hunter",
    "Gordon",    "Mendez",    "Silva",     "Shaw",      "Snyder",
    "Mason",     "Dixon",     "Munoz",     "Hunt",      "Hicks",
    "Holmes",    "Palmer",    "Wagner",    "Black",     "Robertson",
    "Boyd",      "Rose",      "Stone",     "Salazar",   "Fox",
    "Warren",    "Mills",     "Meyer",     "Rice",      "Schmidt",
    "Garza",     "Daniels",   "Ferguson",  "Nichols",   "Stephens",
    "Soto",      "Weaver",    "Ryan",      "Gardner",   "Payne",
    "Grant",     "Dunn",      "Kelley",    "Spencer",   "Hawkins",
    "Arnold",    "Pierce",    "Hansen",    "Peters",    "Santos",
    "Hart",      "Bradley",   "Knight",    "Elliott",   "Cunningham",
    "Duncan",    "Armstrong", "Hudson",    "Carroll",   "Lane",
    "Riley",     "Andrews",   "Ray",       "Berry",     "Perkins",
    "Hoffman",   "Johnston",  "Matthews",  "Pena",      "Richards",
    "Willis",    "Carpenter", "Lawrence",  "Sandoval",  "O'Brien",
    "O'Connor",  "MacLeod",   "McKenzie",  "Fraser",    "Davies",
    "Lloyd",     "Hughes",    "Morgan",    "Price",     "Jenkins",
    "Rossi",     "Russo",     "Ferrari",   "Esposito",  "Bianchi",
    "Romano",    "Muller",    "Schneider", "Fischer",   "Weber",
    "Becker",    "Dubois",    "Durand",    "Lefebvre",  "Moreau",
    "Laurent",   "Jansen",    "de Vries",  "van Dijk",  "Bakker",
    "Visser",    "Nielsen",   "Larsen",    "Johansson", "Andersson",
};

/* Formal given names and the nicknames that records carry instead. */
static const char *const gen_latin_nicknames[][2] = {
    {"Robert", "Bob"},        {"William", "Bill"},    {"Richard", "Dick"},
    {"Elizabeth", "Liz"},     {"Margaret", "Peggy"},  {"James", "Jim"},
    {"John", "Jack"},         {"Michael", "Mike"},    {"Thomas", "Tom"},
    {"Katherine", "Kate"},    {"Joseph", "Joe"},      {"Charles", "Charlie"},
    {"Edward", "Ted"},        {"Anthony", "Tony"},    {"Daniel", "Dan"},
    {"Christopher", "Chris"}, {"Jennifer", "Jen"},    {"Patricia", "Pat"},
    {"Susan", "Sue"},         {"Rebecca", "Becky"},   {"Alexander", "Alex"},
    {"Nicholas", "Nick"},     {"Steven", "Steve"},    {"Matthew", "Matt"},
    {"Andrew", "Andy"},       {"Benjamin", "Ben"},    {"Samuel", "Sam"},
    {"Jonathan", "Jon"},      {"Timothy", "Tim"},     {"Deborah", "Debbie"},
    {"Barbara", "Barb"},      {"Catherine", "Cathy"}, {"Victoria", "Vicky"},
    {"Jessica", "Jess"},      {"Kimberly", "Kim"},    {"Dorothy", "Dot"},
    {"Frederick", "Fred"},    {"Henry", "Harry"},     {"Lawrence", "Larry"},
    {"Gregory", "Greg"},      {"Peter", "Pete"},      {"Ronald", "Ron"},
    {"Donald", "Don"},        {"Kenneth", "Ken"},     {"Raymond", "Ray"},
    {"Gerald", "Jerry"},      {"Douglas", "Doug"},    {"Theodore", "Theo"},
    {"Abigail", "Abby"},      {"Amanda", "Mandy"},    {"Christine", "Chris"},
    {"Samantha", "Sam"},      {"Alexandra", "Alex"},  {"Josephine", "Jo"},
    {"Eleanor", "Ellie"},     {"Isabella", "Bella"},  {"Zachary", "Zach"},
    {"Joshua", "Josh"},       {"Philip", "Phil"},     {"Stephanie", "Steph"},
};

/* A town, its state or county code and the first part of its postcode. */
struct gen_latin_town {
    const char *town;
    const char *region;
    const char *postcode;
    const char *dial; /* area code (US) or trunk-less STD code (UK) */
};

static const struct gen_latin_town gen_us_towns[] = {
    {"New York", "NY", "100", "212"},
    {"Brooklyn", "NY", "112", "718"},
    {"Los Angeles", "CA", "900", "213"},
    {"San Diego", "CA", "921", "619"},
    {"San Jose", "CA", "951", "408"},
    {"Oakland", "CA", "946", "510"},
    {"Chicago", "IL", "606", "312"},
    {"Springfield", "IL", "627", "217"},
    {"Houston", "TX", "770", "713"},
    {"Dallas", "TX", "752", "214"},
    {"Austin", "TX", "787", "512"},
    {"Phoenix", "AZ", "850", "602"},
    {"Philadelphia", "PA", "191", "215"},
    {"Pittsburgh", "PA", "152", "412"},
    {"Seattle", "WA", "981", "206"},
    {"Portland", "OR", "972", "503"},
    {"Denver", "CO", "802", "303"},
    {"Boston", "MA", "021", "617"},
    {"Atlanta", "GA", "303", "404"},
    {"Miami", "FL", "331", "305"},
    {"Orlando", "FL", "328", "407"},
    {"Detroit", "MI", "482", "313"},
    {"Minneapolis", "MN", "554", "612"},
    {"Columbus", "OH", "432", "614"},
    {"Cleveland", "OH", "441", "216"},
    {"Nashville", "TN", "372", "615"},
    {"Charlotte", "NC", "282", "704"},
    {"Baltimore", "MD", "212", "410"},
    {"St. Louis", "MO", "631", "314"},
    {"Salt Lake City", "UT", "841", "801"},
};

static const struct gen_latin_town gen_uk_towns[] = {
    {"London", "", "SW1", "20"},      {"London", "", "E14", "20"},
    {"London", "", "N1", "20"},       {"Manchester", "", "M1", "161"},
    {"Birmingham", "", "B15", "121"}, {"Leeds", "", "LS1", "113"},
    {"Glasgow", "", "G2", "141"},     {"Edinburgh", "", "EH1", "131"},
    {"Liverpool", "", "L1", "151"},   {"Bristol", "", "BS1", "117"},
    {"Sheffield", "", "S1", "114"},   {"Cardiff", "", "CF10", "29"},
    {"Newcastle", "", "NE1", "191"},  {"Nottingham", "", "NG1", "115"},
    {"Leicester", "", "LE1", "116"},  {"Oxford", "", "OX1", "1865"},
    {"Cambridge", "", "CB2", "1223"}, {"Brighton", "", "BN1", "1273"},
    {"York", "", "YO1", "1904"},      {"Belfast", "", "BT1", "28"},
    {"Aberdeen", "", "AB10", "1224"}, {"Reading", "", "RG1", "118"},
};

static const char *const gen_latin_street_names[] = {
    "Main",       "Oak",      "Maple",     "Cedar",   "Pine",     "Elm",
    "Washington", "Lake",     "Hill",      "Park",    "Church",   "High",
    "Station",    "Victoria", "Mill",      "School",  "Green",    "King",
    "Queen",      "North",    "South",     "West",    "East",     "Bridge",
    "Market",     "Spring",   "Chestnut",  "Walnut",  "Sunset",   "Highland",
    "River",      "Forest",   "Meadow",    "Willow",  "Birch",    "Jackson",
    "Lincoln",    "Franklin", "Jefferson", "Madison", "Albert",   "George",
    "Manor",      "Grange",   "Windsor",   "York",    "Richmond", "Cambridge",
};

static const char *const gen_us_street_types[] = {
    "St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Ct", "Way", "Pl",
};

static const char *const gen_uk_street_types[] = {
    "Street", "Road", "Lane",     "Avenue",  "Close",
    "Drive",  "Way",  "Crescent", "Gardens", "Terrace",
};

static const char *const gen_latin_email_domains[] = {
    "gmail.com",     "gmail.com",      "yahoo.com", "outlook.com",
    "hotmail.com",   "icloud.com",     "aol.com",   "btinternet.com",
    "hotmail.co.uk", "protonmail.com",
};

#endif
