package watch

// DefaultTerms is the list every organisation starts with. It was written
// for what people write when asking for peer support in UK English, and is
// tested with true and false positives (defaults_test.go): phrases that say
// someone may be at risk must match; everyday figures of speech ("dying to
// meet people", "killing time", "cut down on coffee") must not.
//
// Flag terms alert the duty lead: explicit words of suicide, self-harm and
// the means to do it. Signpost terms show the writer where to get help now
// without alerting anyone: distress that is common in requests for support
// and is not by itself a sign of danger. The list errs towards matching:
// a lead who records "no risk found" costs minutes; a message unseen may
// cost a life. Negation ("I am not suicidal") still matches, on purpose.
var DefaultTerms = []Term{
	// Suicide.
	{Phrase: "suicide", Category: Suicide, Action: Flag},
	{Phrase: "suicidal", Category: Suicide, Action: Flag},
	{Phrase: "kill myself", Category: Suicide, Action: Flag},
	{Phrase: "killing myself", Category: Suicide, Action: Flag},
	{Phrase: "kill my self", Category: Suicide, Action: Flag},
	{Phrase: "end my life", Category: Suicide, Action: Flag},
	{Phrase: "ending my life", Category: Suicide, Action: Flag},
	{Phrase: "end it all", Category: Suicide, Action: Flag},
	{Phrase: "ending it all", Category: Suicide, Action: Flag},
	{Phrase: "take my own life", Category: Suicide, Action: Flag},
	{Phrase: "taking my own life", Category: Suicide, Action: Flag},
	{Phrase: "take my life", Category: Suicide, Action: Flag},
	{Phrase: "want to die", Category: Suicide, Action: Flag},
	{Phrase: "wanting to die", Category: Suicide, Action: Flag},
	{Phrase: "wanna die", Category: Suicide, Action: Flag},
	{Phrase: "ready to die", Category: Suicide, Action: Flag},
	{Phrase: "wish I was dead", Category: Suicide, Action: Flag},
	{Phrase: "wish I were dead", Category: Suicide, Action: Flag},
	{Phrase: "want to be dead", Category: Suicide, Action: Flag},
	{Phrase: "better off dead", Category: Suicide, Action: Flag},
	{Phrase: "better off without me", Category: Suicide, Action: Flag},
	{Phrase: "nobody would miss me", Category: Suicide, Action: Flag},
	{Phrase: "no one would miss me", Category: Suicide, Action: Flag},
	{Phrase: "don't want to be here anymore", Category: Suicide, Action: Flag},
	{Phrase: "don't want to be here any more", Category: Suicide, Action: Flag},
	{Phrase: "don't want to be alive", Category: Suicide, Action: Flag},
	{Phrase: "don't want to live", Category: Suicide, Action: Flag},
	{Phrase: "no reason to live", Category: Suicide, Action: Flag},
	{Phrase: "nothing to live for", Category: Suicide, Action: Flag},
	{Phrase: "not worth living", Category: Suicide, Action: Flag},
	{Phrase: "isn't worth living", Category: Suicide, Action: Flag},
	{Phrase: "no point in living", Category: Suicide, Action: Flag},
	{Phrase: "no point living", Category: Suicide, Action: Flag},
	{Phrase: "can't go on", Category: Suicide, Action: Flag},
	{Phrase: "cannot go on", Category: Suicide, Action: Flag},
	{Phrase: "hang myself", Category: Suicide, Action: Flag},
	{Phrase: "hanging myself", Category: Suicide, Action: Flag},
	{Phrase: "jump off a bridge", Category: Suicide, Action: Flag},
	{Phrase: "in front of a train", Category: Suicide, Action: Flag},
	{Phrase: "suicide note", Category: Suicide, Action: Flag},
	{Phrase: "goodbye letter", Category: Suicide, Action: Flag},
	{Phrase: "plan to end", Category: Suicide, Action: Flag},
	{Phrase: "planning to end", Category: Suicide, Action: Flag},

	// Self-harm.
	{Phrase: "self harm", Category: SelfHarm, Action: Flag},
	{Phrase: "self harming", Category: SelfHarm, Action: Flag},
	{Phrase: "self harmed", Category: SelfHarm, Action: Flag},
	{Phrase: "selfharm*", Category: SelfHarm, Action: Flag},
	{Phrase: "self injury", Category: SelfHarm, Action: Flag},
	{Phrase: "self injuring", Category: SelfHarm, Action: Flag},
	{Phrase: "cut myself", Category: SelfHarm, Action: Flag},
	{Phrase: "cutting myself", Category: SelfHarm, Action: Flag},
	{Phrase: "cut my arms", Category: SelfHarm, Action: Flag},
	{Phrase: "cutting my arms", Category: SelfHarm, Action: Flag},
	{Phrase: "cut my wrists", Category: SelfHarm, Action: Flag},
	{Phrase: "slit my wrists", Category: SelfHarm, Action: Flag},
	{Phrase: "hurt myself", Category: SelfHarm, Action: Flag},
	{Phrase: "hurting myself", Category: SelfHarm, Action: Flag},
	{Phrase: "harm myself", Category: SelfHarm, Action: Flag},
	{Phrase: "harming myself", Category: SelfHarm, Action: Flag},
	{Phrase: "burn myself", Category: SelfHarm, Action: Flag},
	{Phrase: "burning myself", Category: SelfHarm, Action: Flag},

	// The means.
	{Phrase: "overdos*", Category: Means, Action: Flag},
	{Phrase: "took all my pills", Category: Means, Action: Flag},
	{Phrase: "take all my pills", Category: Means, Action: Flag},
	{Phrase: "took all my tablets", Category: Means, Action: Flag},
	{Phrase: "take all my tablets", Category: Means, Action: Flag},
	{Phrase: "stockpil*", Category: Means, Action: Flag},
	{Phrase: "saving up my tablets", Category: Means, Action: Flag},
	{Phrase: "saving up my pills", Category: Means, Action: Flag},
	{Phrase: "bought a rope", Category: Means, Action: Flag},
	{Phrase: "noose", Category: Means, Action: Flag},
	{Phrase: "ligature", Category: Means, Action: Flag},
	{Phrase: "ligatures", Category: Means, Action: Flag},
	{Phrase: "razor blades", Category: Means, Action: Flag},

	// Distress: signposting only.
	{Phrase: "hopeless", Category: Distress, Action: Signpost},
	{Phrase: "can't cope", Category: Distress, Action: Signpost},
	{Phrase: "cannot cope", Category: Distress, Action: Signpost},
	{Phrase: "can't take it anymore", Category: Distress, Action: Signpost},
	{Phrase: "can't take it any more", Category: Distress, Action: Signpost},
	{Phrase: "no way out", Category: Distress, Action: Signpost},
	{Phrase: "giving up on life", Category: Distress, Action: Signpost},
	{Phrase: "give up on life", Category: Distress, Action: Signpost},
	{Phrase: "in crisis", Category: Distress, Action: Signpost},
	{Phrase: "falling apart", Category: Distress, Action: Signpost},
}
